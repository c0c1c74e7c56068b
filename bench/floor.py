"""The floor of a refresh: the least any refresh of the sample must do, timed on the same data.

Two parts, timed apart:
- read: every file of every configured source read once into a DuckDB table (one table per source,
  one statement per source), in a database file next to the warehouse, checkpointed. CSV, JSON Lines
  and Parquet go through DuckDB's own readers with the source's dialect options (CSV as text, like
  extract reads it); a file in another encoding (the CRM's GBK export) is first transcoded to UTF-8
  in a streaming pass, and a JSON Lines file with a BOM copied without it, with extract's own
  `utf8_copy`: DuckDB 2.0 here has no encodings extension, so the product pays that pass too.
- aggregate: one group-by per source on its customer key (the mapped `customer_ref`) for the
  sessions (events sources whose event_type is one of features.session_event_types) and the
  payments (transactions sources): rows, last timestamp and the sums of the mapped amounts,
  written to tables and checkpointed.

No lineage, no type checks, no identity resolution: the ratio refresh / floor says how many times
this minimum a refresh costs.
"""

import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import duckdb

from tasks.extract.readers import (
    UTF8_NAMES,
    _starts_with_bom,
    reader_options,
    source_files,
    utf8_copy,
)
from tasks.shared.config import PipelineConfig, SourceConfig, load_config
from tasks.shared.warehouse import quote_identifier

DATABASE = "floor.duckdb"
# DuckDB's reader per file format; $paths is the list of the source's files
READERS = {
    "csv": "read_csv($paths, all_varchar = true, union_by_name = true{options})",
    "jsonl": "read_json($paths, format = 'newline_delimited', union_by_name = true{options})",
    "parquet": "read_parquet($paths, union_by_name = true{options})",
}
SUMMED = ("amount", "value", "duration_s")  # mapped numeric fields the aggregate sums


def floor_table(source: SourceConfig) -> str:
    """The floor's table of a source's rows."""
    return quote_identifier(f"source_{source.name}")


def aggregate_table(source: SourceConfig) -> str:
    """The floor's table of a source's per-customer aggregate."""
    return quote_identifier(f"by_customer_{source.name}")


def read_source(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, paths: list[Path], work_dir: Path
) -> None:
    """Every file of one source into its table in one statement; other encodings transcoded first, as extract does."""
    if source.format not in READERS:
        raise ValueError(
            f"source {source.name!r}: the floor reads csv, jsonl and parquet, not {source.format}"
        )
    with ExitStack() as copies:  # transcoded copies live until the statement has read them
        readable = []
        for path in paths:
            if source.format != "parquet" and source.encoding.lower() not in UTF8_NAMES:
                path = copies.enter_context(utf8_copy(path, source.encoding, work_dir))
            elif source.format == "jsonl" and _starts_with_bom(path):
                path = copies.enter_context(utf8_copy(path, source.encoding, work_dir, declared_utf8=True))
            readable.append(str(path))
        reader = READERS[source.format].format(
            options=reader_options(source) if source.format != "parquet" else ""
        )
        con.execute(f"create table {floor_table(source)} as select * from {reader}", {"paths": readable})


def aggregated(config: PipelineConfig) -> list[tuple[SourceConfig, str | None]]:
    """The sources the floor aggregates per customer, each with a row filter (None: every row).

    Transactions sources (payments) and the events sources that hold sessions: an event_type mapped to
    a constant counts when the constant is a session type; one computed from the row filters the rows.
    """
    chosen = []
    sessions = config.features.session_event_types
    with duckdb.connect() as con:
        for source in config.sources:
            if "customer_ref" not in source.columns or source.format not in READERS:
                continue
            if source.kind == "transactions":
                chosen.append((source, None))
            elif source.kind == "events" and "event_type" in source.columns:
                expression = source.columns["event_type"]
                try:
                    (constant,) = con.execute(f"select {expression}").fetchone()
                except duckdb.Error:  # refers to the row's columns: keep the session rows
                    types = ", ".join("'" + t.replace("'", "''") + "'" for t in sessions)
                    chosen.append((source, f"({expression}) in ({types})"))
                else:
                    if constant in sessions:
                        chosen.append((source, None))
    return chosen


def aggregate_source(con: duckdb.DuckDBPyConnection, source: SourceConfig, where: str | None) -> None:
    """One group-by of a source's rows on its customer key: rows, last timestamp, sums of the mapped amounts."""
    columns = source.columns
    measures = ["count(*) as source_rows"]
    if "ts" in columns:
        measures.append(f"max({columns['ts']}) as last_ts")
    measures += [f"sum(try_cast({columns[f]} as double)) as {f}" for f in SUMMED if f in columns]
    select = (
        f"select {columns['customer_ref']} as customer_ref, {', '.join(measures)} from {floor_table(source)}"
    )
    where_clause = f" where {where}" if where else ""
    con.execute(f"create table {aggregate_table(source)} as {select}{where_clause} group by 1")


def measure_floor(config_path: str | Path) -> dict:
    """Time the floor on a config's sources; return seconds (read, aggregate, total) and the rows per source."""
    config = load_config(config_path)
    work_dir = config.warehouse_path.parent
    database = work_dir / DATABASE
    remove_database(database)
    try:
        with duckdb.connect(str(database)) as con:
            con.execute("set enable_progress_bar = false")
            con.execute("set allocator_background_threads = true")
            if config.memory_limit:  # checked against a strict pattern by the config
                con.execute(f"set memory_limit = '{config.memory_limit}'")
            started = time.perf_counter()
            for source in config.sources:
                read_source(con, source, [file.path for file in source_files(config, source)], work_dir)
            con.execute("checkpoint")
            read_s = time.perf_counter() - started
            started = time.perf_counter()
            chosen = aggregated(config)
            for source, where in chosen:
                aggregate_source(con, source, where)
            con.execute("checkpoint")
            aggregate_s = time.perf_counter() - started
            rows = {
                s.name: con.execute(f"select count(*) from {floor_table(s)}").fetchall()[0][0]
                for s in config.sources
            }
            groups = {
                s.name: con.execute(f"select count(*) from {aggregate_table(s)}").fetchall()[0][0]
                for s, _ in chosen
            }
    finally:
        remove_database(database)
    return {
        "read_s": read_s,
        "aggregate_s": aggregate_s,
        "wall_s": read_s + aggregate_s,
        "rows": rows,
        "rows_read": sum(rows.values()),
        "groups": groups,
    }


def remove_database(database: Path) -> None:
    """Remove the floor's database file and what DuckDB keeps beside it (WAL, spill folder)."""
    for path in database.parent.glob(database.name + "*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
