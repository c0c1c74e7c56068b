"""Whether a source's mappings and `where` bind against its raw columns, before any row is read, and what to
say when one does not."""

import re
from collections.abc import Mapping

import duckdb

from tasks.extract.staging import failure_prefix, mapping_sql, where_sql
from tasks.extract.tables import raw_table, raw_types
from tasks.shared.config import SourceConfig
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse


def mapping_hint(error: str) -> str:
    """What to do about DuckDB's error for a mapping, in words a config author can act on."""
    if "No function matches" in error and "VARCHAR" in error:
        return (
            "CSV and Excel columns are text, read as numbers only in arithmetic (+ - * /) and in comparisons "
            "with a number: elsewhere write cast(<column> as double)"
        )
    if "STRING_LITERAL" in error:
        return "a value in quotes is text: write numbers without quotes"
    if "not found" in error and "column" in error.lower():
        return 'use a column of the file (case-insensitive; quote names with spaces: "Unit Price")'
    return "fix the expression (DuckDB SQL over the file's own columns)"


def bind_error(wh: Warehouse, source: SourceConfig, field: str, types: Mapping[str, str]) -> str | None:
    """DuckDB's error (first line) when the mapping of field does not bind against raw.<source>; reads no rows."""
    try:
        wh.execute(f"select ({mapping_sql(source, types)[field]}\n) from {raw_table(source)} limit 0")
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


def check_mappings(wh: Warehouse, source: SourceConfig) -> None:
    """Bind every mapping expression against the source's raw rows (none read); a DataError names the field."""
    # listed first: after a failed statement the transaction only accepts a rollback
    types = raw_types(wh, source)
    columns = [key.removeprefix("raw:") for key in types if not key.startswith("raw:_")]
    for field, expression in source.columns.items():
        error = bind_error(wh, source, field, types)
        if error is not None:
            raise DataError(
                f"source {source.name!r}: columns.{field} = {expression!r} fails: {error.rstrip('.')}. "
                f"{mapping_hint(error)}. Raw columns: {columns}"
            )
    if source.where is not None:
        problem = where_problem(wh, source, types)
        if problem is not None:
            raise DataError(
                f"source {source.name!r}: where = {source.where!r} {problem}. Raw columns: {columns}"
            )


def where_problem(wh: Warehouse, source: SourceConfig, types: Mapping[str, str]) -> str | None:
    """Why the source's `where` cannot filter its raw rows (it does not bind, or is not a true/false condition)."""
    condition = where_sql(source, types)
    try:
        described = wh.rows(f"describe select ({condition}\n) as kept from {raw_table(source)} limit 0")
    except duckdb.Error as exc:
        error = str(exc).splitlines()[0]
        return f"fails: {error.rstrip('.')}. {mapping_hint(error)}"
    if described[0][1] != "BOOLEAN":
        return f"is not a condition (it gives {described[0][1]}, not true or false)"
    return None


def mapping_prefixes(source: SourceConfig) -> list[str]:
    """How the reasons of the source's failing mappings start (staging.failure_prefix): config, not data."""
    return sorted((failure_prefix(source, field) for field in source.columns), key=len, reverse=True)


def masked_reason(reason: str, prefixes: list[str]) -> str:
    """A quarantine reason with its quoted values masked ('...'), the mappings' own text kept (a strptime format,
    however it was cut): one pass that takes a prefix whole where one starts, else a quoted run. A value's quotes
    are doubled (failure_sql), so each quoted run is masked whole."""
    kept = "|".join(map(re.escape, prefixes)) or "(?!)"  # no mapping: a group that never matches
    return re.sub(f"(?P<kept>{kept})|'[^']*'", lambda found: found["kept"] or "'...'", reason)
