"""Raw: each source's own columns as read, plus lineage, appended batch by batch to raw.<source>."""

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from tasks.extract.diagnose import json_rows_problem
from tasks.extract.kept_files import (
    copy_into_table,
    define_view,
    keep_file,
    keeps_files,
    kept_types,
    retyped_columns,
)
from tasks.extract.readers import SourceFile, ends_a_line, read_file, repeated_columns
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.errors import DataError
from tasks.shared.files import literal_path
from tasks.shared.scratch import scratch
from tasks.shared.text import counted, listed
from tasks.shared.warehouse import Warehouse, quote_column, quote_identifier


def append_raw(
    wh: Warehouse,
    source: SourceConfig,
    batch: str,
    params: Mapping[str, Any],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter,
    columns: list[tuple[str, str]] | None = None,
) -> int:
    """Append the rows of a select (a file's or batch's rows with `_file`, `_row`) to raw.<source>.

    Adds lineage (sql/staging/raw_batch.sql) and any new columns; a column whose type differs from
    earlier batches' is widened to a type that holds both exactly (widened_type), never cast lossily
    into the first file's type. Returns the rows appended. params: the select's named parameters.
    columns: the select's (name, type) when the caller has described it already.
    """
    raw = f"raw.{source.name}"
    lineage = {"source": source.name, "loaded_at": datetime.now().astimezone(), "run_id": run_id}
    values = {**params, **lineage}
    if not wh.table_exists(raw):
        # a table defined by a column list (sql/staging/raw_table.sql), not created from the select
        fragments = {"batch": batch, "conversions": ""}
        described = wh.describe(wh.model_sql("staging/raw_batch", fragments=fragments), values)
        definition = ",\n    ".join(f"{quote_column(name)} {sql_type}" for name, sql_type in described)
        wh.run("staging/raw_table", identifiers={"source": source.name}, fragments={"columns": definition})
        return (
            wh.insert(raw, "staging/raw_batch", values, fragments=fragments)
            if _has_rows(wh, batch, params)
            else 0
        )
    existing = {name.lower(): (name, sql_type) for name, sql_type in wh.describe(quote_identifier(raw))}
    conversions = []
    added = []
    for name, sql_type in columns or wh.describe(batch, params):
        if name in ("_file", "_row"):
            continue
        if name.lower() not in existing:
            added.append(name)
            wh.execute(f"alter table {quote_identifier(raw)} add column {quote_column(name)} {sql_type}")
            continue
        raw_name, raw_type = existing[name.lower()]
        if raw_type == sql_type:
            continue
        target = widened_type(raw_type, sql_type)
        if target == DOUBLE_IF_EXACT:  # a 64-bit integer next to a floating-point number
            exact = _fits_double(wh, quote_identifier(raw), raw_name, raw_type, {}) and _fits_double(
                wh, f"({batch})", name, sql_type, params
            )
            target = "DOUBLE" if exact else "VARCHAR"
        if target != raw_type:
            batch_name = params.get("file", "this batch")
            logger.warning(
                "source %s: column %r is %s in %s, %s before: raw keeps it as %s",
                *(source.name, name, sql_type, batch_name, raw_type, target),
            )
            change_column_type(wh, source.name, raw_name, raw_type, target)
        if target != sql_type:
            conversions.append(f"{_converted(name, target)} as {quote_column(name)}")
    say_new_columns(source, added, logger)
    if not _has_rows(wh, batch, params):
        return 0
    fragments = {"batch": batch, "conversions": f" replace ({', '.join(conversions)})" if conversions else ""}
    return wh.insert(raw, "staging/raw_batch", values, fragments=fragments)


def change_column_type(wh: Warehouse, source: str, column: str, old_type: str, new_type: str) -> None:
    """Give raw.<source>'s column a wider type, its values converted (_converted).

    A DuckLake changes a column's type in place only by a widening it can apply without rewriting the
    files (a larger integer, FLOAT to DOUBLE); any other change rewrites the table in the transaction
    (sql/staging/raw_retype.sql).
    """
    if wh.lake and not _lake_widening(old_type, new_type):
        fragments = {"converted": _converted(column, new_type), "column": quote_column(column)}
        wh.run("staging/raw_retype", identifiers={"source": source}, fragments=fragments)
        return
    wh.execute(
        f"alter table {quote_identifier(f'raw.{source}')} alter column {quote_column(column)} set data type {new_type} "
        f"using {_converted(column, new_type)}"
    )


def _lake_widening(old_type: str, new_type: str) -> bool:
    """Whether a DuckLake applies old_type -> new_type in place: an integer to a larger one of the same
    signedness, or FLOAT to DOUBLE."""
    if (old_type, new_type) == ("FLOAT", "DOUBLE"):
        return True
    for bits in (SIGNED_BITS, UNSIGNED_BITS):
        if old_type in bits and new_type in bits:
            return bits[new_type] > bits[old_type]
    return False


# the new columns a warning names; the rest are counted (a file of 300 columns is one warning, not 290)
NEW_COLUMNS_NAMED = 20


def say_new_columns(
    source: SourceConfig, names: list[str], logger: logging.Logger | logging.LoggerAdapter
) -> None:
    """Warn, once for a file, of the columns it brought that the source's earlier files lack (raw keeps them;
    no mapping reads them)."""
    if not names:
        return
    if len(names) == 1:
        logger.warning(
            "source %s: new column %r kept in raw, not mapped to a canonical field", source.name, names[0]
        )
        return
    logger.warning(
        "source %s: %d new columns kept in raw, not mapped to a canonical field: %s",
        *(source.name, len(names), listed([repr(name) for name in names], NEW_COLUMNS_NAMED)),
    )


def _has_rows(wh: Warehouse, batch: str, params: Mapping[str, Any]) -> bool:
    """Whether a batch has any row (reads its first rows only).

    An empty batch is not inserted: in a DuckDB 2.0 transaction, an insert of no rows from a parallel
    scan hides the rows a later large (parallel, 100k+ rows) insert appends to the same table, from
    every scan, even after the commit; count(*) still counts them (tests/unit/extract/test_incremental_types.py).
    """
    return bool(wh.scalar(f"select count(*) from (select 1 from ({batch}) limit 1)", params))


# Integer types and their bits (an unsigned type needs a signed one with one bit more).
SIGNED_BITS = {"TINYINT": 8, "SMALLINT": 16, "INTEGER": 32, "BIGINT": 64, "HUGEINT": 128}
UNSIGNED_BITS = {"UTINYINT": 8, "USMALLINT": 16, "UINTEGER": 32, "UBIGINT": 64, "UHUGEINT": 128}
# Local (zoneless) date-times that TIMESTAMP (microseconds) holds exactly.
NAIVE_TIMES = {"DATE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP"}
# widened_type's answer for a 64-bit or larger integer next to a float: DOUBLE when every value has
# at most 53 significant bits (checked on the data), else VARCHAR.
DOUBLE_IF_EXACT = "DOUBLE if exact"
DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def widened_type(first: str, second: str) -> str:
    """The DuckDB type of a raw column that holds values of types first and second without loss.

    Numbers widen to a number type that holds both (an integer and a decimal to a wide enough decimal,
    integers and floats to DOUBLE where exact); zoneless dates and times to TIMESTAMP; anything next to
    text becomes text (a TIMESTAMPTZ as text keeps its offset; a zoneless time stays zoneless, read in
    the source's time zone by staging); JSON stays JSON (the other values as JSON); a nested type next
    to another nested type takes DuckDB's common type (a struct with the fields of both), next to
    anything else JSON.
    """
    if first == second:
        return first
    if "JSON" in (first, second):
        return "JSON"
    nested = [_nested(t) for t in (first, second)]
    if any(nested):
        return _common_type(first, second) if nested[0] == nested[1] else "JSON"
    if "VARCHAR" in (first, second):
        return "VARCHAR"
    bits = [_integer_bits(t) for t in (first, second)]
    floats = [t in ("FLOAT", "DOUBLE") for t in (first, second)]
    decimals = [DECIMAL.match(t) for t in (first, second)]
    if all(b is not None for b in bits):
        return _integer_type(first, second)
    if all(floats):
        return "DOUBLE"
    if any(floats) and any(b is not None for b in bits):
        return "DOUBLE" if max(b or 0 for b in bits) <= 32 else DOUBLE_IF_EXACT
    if any(decimals) and all(d is not None or b is not None for d, b in zip(decimals, bits, strict=True)):
        # (integer digits, scale) of each side: an integer type is a decimal with scale 0
        parts = [
            (int(d[1]) - int(d[2]), int(d[2])) if d else (len(str(2 ** (b - 1))), 0)
            for d, b in zip(decimals, bits, strict=True)
        ]
        digits, scale = max(p[0] for p in parts), max(p[1] for p in parts)
        return f"DECIMAL({digits + scale},{scale})" if digits + scale <= 38 else "VARCHAR"
    if any(decimals) and any(floats):
        # a decimal of up to 15 digits survives a DOUBLE: its shortest text is the decimal again
        precision = max(int(d[1]) for d in decimals if d)
        return "DOUBLE" if precision <= 15 else "VARCHAR"
    if first in NAIVE_TIMES and second in NAIVE_TIMES:
        return "TIMESTAMP"
    return "VARCHAR"


def _integer_bits(sql_type: str) -> int | None:
    """Bits of an integer type (unsigned: one more, the sign a common signed type needs), else None."""
    if sql_type in SIGNED_BITS:
        return SIGNED_BITS[sql_type]
    return UNSIGNED_BITS[sql_type] + 1 if sql_type in UNSIGNED_BITS else None


def _integer_type(first: str, second: str) -> str:
    """The narrowest integer type holding every value of two integer types (VARCHAR beyond HUGEINT)."""
    if first in UNSIGNED_BITS and second in UNSIGNED_BITS:
        return max(first, second, key=UNSIGNED_BITS.__getitem__)
    needed = max(_integer_bits(first) or 0, _integer_bits(second) or 0)
    return next((name for name, bits in SIGNED_BITS.items() if bits >= needed), "VARCHAR")


def _nested(sql_type: str) -> str | None:
    """The kind of a nested DuckDB type (STRUCT, MAP, UNION or LIST for lists and arrays), else None."""
    if sql_type.endswith("]"):
        return "LIST"
    kind = sql_type.split("(", 1)[0]
    return kind if kind in ("STRUCT", "MAP", "UNION") and sql_type != kind else None


def _common_type(first: str, second: str) -> str:
    """DuckDB's common type of two nested types of one kind (a struct with the fields of both ...), else JSON.

    Asked of a connection of its own: a failed statement would end the warehouse's transaction.
    """
    with scratch() as con:
        try:
            row = con.execute(
                f"select typeof(x) from (select null::{first} as x union all select null::{second})"
            ).fetchall()
        except duckdb.Error:
            return "JSON"
    found = row[0][0] if row else None
    return found if found and _nested(found) == _nested(first) else "JSON"


def _converted(name: str, target: str) -> str:
    """SQL converting column name to type target: JSON through to_json (text becomes a JSON string), a nested type
    with JSON in it too (a struct's text field 'M7' next to a number 12 is the JSON string "M7"; a cast would read
    the text as JSON and fail)."""
    if target == "JSON":
        return f"to_json({quote_column(name)})"
    if "JSON" in target:
        return f"cast(to_json({quote_column(name)}) as {target})"
    return f"cast({quote_column(name)} as {target})"


def _fits_double(wh: Warehouse, relation: str, name: str, sql_type: str, params: Mapping[str, Any]) -> bool:
    """Whether every value of an integer column of relation has at most 53 significant bits (a DOUBLE holds it)."""
    if _integer_bits(sql_type) is None:
        return True
    limit = 2**53
    return bool(
        wh.scalar(
            f"select coalesce(bool_and({quote_column(name)} between -{limit} and {limit}), true) from {relation}",
            params,
        )
    )


# The lineage columns raw adds to a source's own (sql/staging/raw_batch.sql).
LINEAGE = ("_source", "_file", "_row", "_loaded_at", "_run_id")


def missing_columns(needed: set[str], names: list[str]) -> list[str]:
    """The columns of needed that names lacks, sorted; DuckDB matches column names case-insensitively."""
    have = {name.lower() for name in names}
    return sorted(name for name in needed if name.lower() not in have)


def read_batch(
    wh: Warehouse,
    config: PipelineConfig,
    source: SourceConfig,
    files: list[SourceFile],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter,
) -> dict[str, int]:
    """Read files into raw.<source>; return rows read per file. A mapped column missing in a file is a DataError.

    A Parquet source's files are not copied: raw.<source> reads them in place (tasks.extract.kept_files).
    """
    needed = source.referenced_columns()

    def load(file: SourceFile, select: str, params: Mapping[str, Any]) -> int:
        columns = wh.describe(select, params)
        names = [name for name, _ in columns]
        read = names[:-2]  # the file's own columns: the reader adds _file and _row last
        own = [name for name in read if name.lower() in LINEAGE]
        if own:
            raise DataError(
                f"source {source.name!r}: file {file.name} has a column named {own[0]!r}, a name raw gives its "
                f"lineage ({', '.join(LINEAGE)}); rename the column in the file or its export"
            )
        if reason := json_rows_problem(source.format, read, params):
            raise DataError(f"source {source.name!r}: cannot read {file.name} as jsonl: {reason}")
        missing = missing_columns(needed, names)
        if missing:
            raise DataError(
                f"source {source.name!r}: file {file.name} has no column {', '.join(map(repr, missing))} "
                f"used by the {'mapping or where' if source.where else 'mapping'} (its columns: "
                f"{[c for c in names if not c.startswith('_')]})"
            )
        for name, places, renamed in repeated_columns(source, params.get("path", "")):
            logger.warning(
                "source %s: file %s has %d columns named %r (columns %s): a mapping of %r reads the first; "
                "DuckDB names the others %s",
                source.name,
                file.name,
                len(places),
                name,
                ", ".join(map(str, places)),
                name,
                ", ".join(map(repr, renamed)),
            )
        if keeps_files(wh, source):
            retyped = retyped_columns(known, columns)
            if not retyped:
                if known:
                    say_new_columns(
                        source, [name for name, _ in columns if name.lower() not in known], logger
                    )
                for name, sql_type in columns:
                    known.setdefault(name.lower(), sql_type)
                kept.append(file.name)
                return keep_file(wh, source, file, select, params, run_id)
            define_view(wh, source)  # with the files of this batch kept so far, then copied
            reason = f"file {file.name} holds {', '.join(map(repr, retyped))} in another type than the earlier files"
            copy_into_table(wh, source, reason, logger)
        appended = append_raw(wh, source, select, params, run_id, logger, columns)
        if source.format == "csv" and appended and not ends_a_line(literal_path(params["path"])):
            logger.warning(
                "source %s: file %s does not end with a line break: its last row (row %d) may be cut short "
                "(a file still being written, or copied in part); its rows are loaded as they are",
                source.name,
                file.name,
                appended,
            )
        return appended

    known = (
        kept_types(wh, source) if keeps_files(wh, source) else {}
    )  # columns of the files raw reads in place
    kept: list[str] = []
    counts = {}
    with scratch_dir(config, run_id) as work_dir:
        for file in files:
            counts[file.name] = read_file(
                wh,
                source,
                file,
                work_dir,
                lambda select, params, file=file: load(file, select, params),
                logger=logger,
            )
    if kept and keeps_files(wh, source):
        define_view(wh, source)
    return counts


@contextmanager
def scratch_dir(config: PipelineConfig, run_id: str) -> Iterator[Path]:
    """The run's folder for transcoded copies of the files it reads (read_file makes it), removed on the way out with
    what a failed read left in it."""
    work_dir = config.warehouse_path.parent / f".extract-{run_id}"
    try:
        yield work_dir
    finally:  # no SQL here: after a failed statement the transaction only accepts a rollback
        if work_dir.exists():
            for leftover in work_dir.glob("*"):
                leftover.unlink()
            work_dir.rmdir()


def emptied_files(
    wh: Warehouse,
    config: PipelineConfig,
    source: SourceConfig,
    files: list[SourceFile],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter,
) -> list[str]:
    """The files, each loaded before with rows and changed since, that now hold no row (0 bytes, or a header alone):
    read as the load reads them, their first row only."""

    def first_rows(select: str, params: Mapping[str, Any]) -> int:
        return wh.scalar(f"select count(*) from ({select})", params)

    with scratch_dir(config, run_id) as work_dir:
        return [
            file.name
            for file in files
            if file.size == 0 or not read_file(wh, source, file, work_dir, first_rows, limit=1, logger=logger)
        ]


def say_emptied(
    source: SourceConfig,
    emptied: list[str],
    before: dict[str, int],
    logger: logging.Logger | logging.LoggerAdapter,
) -> None:
    """Warn of each loaded file rewritten with no row, whose last read is kept."""
    for name in emptied:
        logger.warning(
            "source %s: file %s held %s when loaded and now holds none (0 bytes, or a header alone): its last read "
            "is kept, an emptied file taken for a failed export (to take its rows out, delete the file, or run "
            "with --full-refresh %s)",
            source.name,
            name,
            counted(before[name], "row"),
            source.name,
        )
