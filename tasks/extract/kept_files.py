"""Raw of a Parquet source: its files read where they are, not copied into the warehouse.

A Parquet file is already typed and columnar, so a copy into a raw table costs a write and a
checkpoint of every row (about 9 s and 450 MB of warehouse file for 10M game sessions) and gains
nothing. raw.<source> of such a source is a view (sql/staging/raw_view.sql) over the files listed in
audit.raw_files, with the lineage columns a raw table has; everything that reads raw reads it alike.
The files are checked like any source's: a file whose size or mtime changed is hashed (SHA-256),
and a changed or gone file's rows leave raw and staging, as a copied file's rows do.

What a table would do by writing rows is kept beside the files (audit.raw_row_marks): a row a later
run checks again (its `_run_id`), and a row an erasure hides (the file is the source system's; the
view leaves the row out; its lineage only, no value, is recorded). When a new file holds an existing
column in another type, the view could only read both in a type DuckDB picks, so the source's raw rows
are copied into a table once and raw widens types as for other formats (tasks.extract.raw.widened_type).
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tasks.extract.readers import SourceFile, reader_options
from tasks.shared.config import SourceConfig
from tasks.shared.files import glob_literal
from tasks.shared.warehouse import Warehouse, quote_column, quote_identifier, sql_literal

# Formats whose files raw reads in place.
KEPT_FORMATS = ("parquet",)
# The temp view of the kept files a run read (run_rows).
RUN_VIEW = "_raw_of_run"


def reads_in_place(source: SourceConfig) -> bool:
    """Whether the source is set to read its files in place (a Parquet source with read_in_place)."""
    return source.format in KEPT_FORMATS and source.read_in_place


def keeps_files(wh: Warehouse, source: SourceConfig) -> bool:
    """Whether raw.<source> reads the source's files in place: a Parquet source set to read_in_place whose raw
    is not (yet) a table."""
    if not reads_in_place(source):
        return False
    return _raw_kind(wh, source) in (None, "VIEW")


def _raw_kind(wh: Warehouse, source: SourceConfig) -> str | None:
    """VIEW or BASE TABLE: what raw.<source> is; None without it."""
    return wh.scalar(
        "select any_value(table_type) from information_schema.tables where table_schema = 'raw' and table_name = ?",
        [source.name],
    )


def settle_raw(wh: Warehouse, source: SourceConfig, logger: logging.Logger | logging.LoggerAdapter) -> None:
    """A source no longer set to read its files in place: its raw view becomes a table of the rows it shows."""
    if _raw_kind(wh, source) != "VIEW" or keeps_files(wh, source):
        return
    define_view(wh, source)  # over the files still there
    copy_into_table(wh, source, "read_in_place is off", logger)


def kept_types(wh: Warehouse, source: SourceConfig) -> dict[str, str]:
    """The types of the columns the kept files of a source hold so far, by lower-case name."""
    raw = f"raw.{source.name}"
    if not wh.table_exists(raw):
        return {}
    return {name.lower(): sql_type for name, sql_type in wh.describe(quote_identifier(raw))}


def retyped_columns(known: Mapping[str, str], columns: list[tuple[str, str]]) -> list[str]:
    """The columns of a new file that earlier files hold in another type."""
    return [
        name
        for name, sql_type in columns
        if name.lower() in known and known[name.lower()] != sql_type and name not in ("_file", "_row")
    ]


def keep_file(
    wh: Warehouse,
    source: SourceConfig,
    file: SourceFile,
    select: str,
    params: Mapping[str, Any],
    run_id: str,
) -> int:
    """Record a file whose rows raw reads in place; return its rows.

    Every value is decoded once here (a hash of every column), so that a file DuckDB cannot read fails
    now, named by read_file, and not later inside staging.
    """
    rows = wh.rows(f"select count(*), bit_xor(hash(columns(*))) from ({select})", params)[0][0]
    wh.execute(
        "insert into audit.raw_files values (?, ?, ?, ?, ?, ?)",
        [source.name, file.name, str(file.path.resolve()), rows, datetime.now().astimezone(), run_id],
    )
    return rows


def define_view(wh: Warehouse, source: SourceConfig) -> None:
    """(Re)define raw.<source> over the source's kept files that are there; without any, there is no raw.<source>.

    A file gone since it was loaded is left out, so that raw stays readable (an erasure between runs reads
    it); the next extract forgets the file's staged rows too and warns of them (load_state.say_forgotten).
    """
    listed = wh.rows("select path from audit.raw_files where source = ? order by file", [source.name])
    paths = present(listed)
    if not paths:
        wh.execute(f"drop view if exists {quote_identifier(f'raw.{source.name}')}")
        return
    _view(wh, source, f"raw.{source.name}", paths)


def present(listed: list[tuple[str]]) -> list[str]:
    """The paths of kept files (rows of a path select) that are still there."""
    return [path for (path,) in listed if Path(path).is_file()]


def run_rows(wh: Warehouse, source: SourceConfig, run_id: str, all_rows: bool) -> str:
    """The relation staging checks a source's raw rows from: raw.<source>, or for a source whose files raw reads
    in place, a temp view of only the files with rows of this run (read or checked again). The view over every
    file would read the footer of each, every run; staging keeps only this run's rows anyway."""
    raw = f"raw.{source.name}"
    if all_rows or not keeps_files(wh, source):
        return raw
    listed = wh.rows(wh.model_sql("staging/run_files"), {"source": source.name, "run_id": run_id})
    paths = present(listed)
    if not paths:
        return raw
    _view(wh, source, RUN_VIEW, paths, temp=True)
    return RUN_VIEW


def _view(wh: Warehouse, source: SourceConfig, view: str, paths: list[str], *, temp: bool = False) -> None:
    """Define view (sql/staging/raw_view.sql) over some kept files of a source."""
    wh.run(
        "staging/raw_view",
        identifiers={"view": view},
        fragments={
            "kind": "temp view" if temp else "view",
            "name": sql_literal(source.name),
            "paths": "[" + ", ".join(sql_literal(glob_literal(path)) for path in paths) + "]",
            "options": reader_options(source),
        },
    )


def forget_files(wh: Warehouse, source: SourceConfig, files: list[str] | None) -> None:
    """Drop some kept files of a source (or all) from raw: their rows and marks go, the view follows."""
    if files is None:
        where, params = "source = ?", [source.name]
    else:
        where, params = "source = ? and file in (select unnest(?::varchar[]))", [source.name, files]
    for table in ("audit.raw_files", "audit.raw_row_marks"):
        wh.execute(f"delete from {table} where {where}", params)
    define_view(wh, source)


def kept_rows(wh: Warehouse, source: SourceConfig, files: list[str]) -> tuple[dict[str, int], int]:
    """The rows some kept files of a source held when loaded, per file, and the source's (read from the record:
    a gone file cannot be read)."""
    rows = wh.rows(
        "select file, rows from audit.raw_files where source = ? and file in (select unnest(?::varchar[]))",
        [source.name, files],
    )
    total = wh.scalar("select coalesce(sum(rows), 0) from audit.raw_files where source = ?", [source.name])
    return dict(rows), total


def mark_checked(wh: Warehouse, source: str, keys: str, run_id: str) -> None:
    """Mark raw rows of kept files as checked again by run_id. keys: a select of (file, row)."""
    _mark(wh, source, keys, "run_id = $run_id", {"run_id": run_id, "hidden": False})


def hide_rows(wh: Warehouse, source: str, keys: str) -> int:
    """Hide raw rows of kept files (an erased person's); return those not hidden before. keys: a select of (file, row)."""
    distinct = f"select distinct * from ({keys}) as keys(file, raw_row)"
    hidden = "select file, raw_row from audit.raw_row_marks where source = $source and hidden"
    count = wh.scalar(
        f"select count(*) from ({distinct}) where (file, raw_row) not in ({hidden})", {"source": source}
    )
    _mark(wh, source, keys, "hidden = true", {"run_id": None, "hidden": True})
    return count


def _mark(wh: Warehouse, source: str, keys: str, assignment: str, values: dict[str, Any]) -> None:
    """Set a mark on the rows keys selects: update the rows marked before, add the others."""
    keys = f"select distinct * from ({keys}) as keys(file, raw_row)"
    marked = "select file, raw_row from audit.raw_row_marks where source = $source"
    params = {"source": source}
    update = (
        f"update audit.raw_row_marks set {assignment} where source = $source and (file, raw_row) in ({keys})"
    )
    wh.execute(update, params | {k: v for k, v in values.items() if f"${k}" in assignment})
    wh.execute(
        f"insert into audit.raw_row_marks select $source, file, raw_row, $run_id, $hidden from ({keys}) "
        f"where (file, raw_row) not in ({marked})",
        params | values,
    )


def hide_erased_rows(wh: Warehouse, removed: dict[str, int]) -> None:
    """Hide the rows of kept files whose lineage is in _erase_lineage (an erased person's); count them as removed
    from raw.<source>."""
    if not wh.table_exists("audit.raw_files"):
        return
    for (source,) in wh.rows(
        "select distinct source from audit.raw_files where source in (select source from _erase_lineage) order by 1"
    ):
        keys = f"select file, row from _erase_lineage where source = {sql_literal(source)}"
        hidden = hide_rows(wh, source, keys)
        if hidden:
            removed[f"raw.{source}"] = removed.get(f"raw.{source}", 0) + hidden


def copy_into_table(
    wh: Warehouse, source: SourceConfig, reason: str, logger: logging.Logger | logging.LoggerAdapter
) -> None:
    """Turn raw.<source> from a view over the kept files into a table with their rows (a new file retypes a
    column, or the source no longer reads in place); reason: why, for the log.

    The table is defined by a column list and filled by an insert, as raw_table does for a first file.
    """
    raw = quote_identifier(f"raw.{source.name}")
    columns = wh.describe(raw)
    logger.info(
        "source %s: %s: raw copies the rows of the %d files it read in place into a table",
        source.name,
        reason,
        wh.scalar("select count(*) from audit.raw_files where source = ?", [source.name]),
    )
    copy = f"_copy_{source.name}"  # filled beside the view, then named like it (a source name starts with a letter)
    definition = ",\n    ".join(f"{quote_column(name)} {sql_type}" for name, sql_type in columns)
    wh.execute(f"drop table if exists {quote_identifier(f'raw.{copy}')}")
    wh.run("staging/raw_table", identifiers={"source": copy}, fragments={"columns": definition})
    wh.execute(f"insert into {quote_identifier(f'raw.{copy}')} select * from {raw}")
    wh.execute(f"drop view {raw}")
    wh.execute(f"alter table {quote_identifier(f'raw.{copy}')} rename to {quote_identifier(source.name)}")
    for table in ("audit.raw_files", "audit.raw_row_marks"):
        wh.execute(f"delete from {table} where source = ?", [source.name])
