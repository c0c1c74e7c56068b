"""The staging template filler: SQL fragments built from a source's config for the models in sql/staging/.

The skeletons (the check query, the staging tables, duplicate ranking) are model files; this module
builds only what varies with the config: the mapping expressions, the typed canonical fields, the
checks each row must pass, a row's fingerprint. It is the one place that writes SQL text from the config.
"""

from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta
from typing import Any

import duckdb

from tasks.shared.config import SourceConfig
from tasks.shared.contracts import CANONICAL_FIELDS, ID_FIELDS, REQUIRED_FIELDS, TRANSACTION_STATUSES
from tasks.shared.errors import DataError
from tasks.shared.expressions import expression_columns, is_volatile, text_as_numbers
from tasks.shared.warehouse import Warehouse, quote_identifier

# A date or date-time without any zone: read in the source's time zone. Anything else (an offset,
# Z, a zone name) is cast as an instant, so '2026-01-01 10:00 America/New_York' keeps its zone.
NAIVE_TIMESTAMP = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$"
# Timestamps more than this far past the load time are faults, not data.
FUTURE_TOLERANCE = timedelta(days=1)
# DuckDB 2.0's common-subexpression optimizer moves an expression two TRY()s share (the cast of one
# text column read by two mappings) out of them, where its error stops the query: off while staging
# evaluates the mappings.
HOISTING_OPTIMIZER = "common_subexpressions"

# Value types that convert to a canonical type without going through text and without any loss:
# the text route (cast to varchar, trim, try_cast) gives the same value for every row.
EXACT_CASTS = {
    "double": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "DOUBLE"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
    "timestamptz": {"TIMESTAMP WITH TIME ZONE"},
}


def _text(column: str, column_type: str | None = None) -> str:
    """A mapped value as trimmed text, null when empty; a JSON string loses its quotes ("E2" -> E2).

    column_type: the value's DuckDB type when known (see value_types): the conversion is then chosen
    once here instead of by a per-row test of its type.
    """
    if column_type == "VARCHAR":
        as_text = column
    elif column_type == "JSON":
        as_text = f"json_extract_string({column}, '$')"
    elif column_type is not None:
        as_text = f"cast({column} as varchar)"
    else:
        as_text = (
            f"case when typeof({column}) = 'JSON' then json_extract_string({column}, '$') "
            f"else cast({column} as varchar) end"
        )
    return f"nullif(trim({as_text}), '')"


def exact_cast(field: str, sql_type: str, types: Mapping[str, str] | None) -> bool:
    """Whether the mapped value of field is of a type that casts to sql_type exactly (see EXACT_CASTS)."""
    return field != "status" and (types or {}).get(f"m_{field}") in EXACT_CASTS.get(sql_type, ())


def typed_sql(field: str, sql_type: str, types: Mapping[str, str] | None = None) -> str:
    """SQL that turns the mapped value `m_<field>` into the canonical type, null when it does not parse."""
    if exact_cast(field, sql_type, types):
        return f'cast("m_{field}" as {sql_type})'
    text = _text(f'"m_{field}"', (types or {}).get(f"m_{field}"))
    if field == "status":
        return f"lower({text})"
    if sql_type == "varchar":
        return text
    if sql_type == "timestamptz":
        return (
            f"case when regexp_matches({text}, '{NAIVE_TIMESTAMP}') then timezone($tz, try_cast({text} as timestamp)) "
            f"else try_cast({text} as timestamptz) end"
        )
    if sql_type == "date":
        return f"coalesce(try_cast({text} as date), cast(try_cast({text} as timestamp) as date))"
    return f"try_cast({text} as {sql_type})"


def reasons_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> list[str]:
    """One SQL expression per check, each null when the row passes it, else the reason."""
    fields = CANONICAL_FIELDS[source.kind]
    types = types or {}
    reasons = [failure_sql(source, field, types) for field in source.columns]
    for field in source.columns:
        sql_type = fields[field]
        text = _text(f'"m_{field}"', types.get(f"m_{field}"))
        if sql_type != "varchar" and not exact_cast(field, sql_type, types):
            reasons.append(
                f'case when {text} is not null and "{field}" is null '
                f"then 'field {field}: ''' || left({text}, 60) || ''' is not a valid {sql_type}' end"
            )
        if sql_type == "timestamptz":
            reasons.append(
                f'case when "{field}" > $future_limit '
                f"then 'field {field}: ' || cast(\"{field}\" as varchar) || ' is in the future' end"
            )
    for field in REQUIRED_FIELDS[source.kind]:
        # a value the mapping could not read is not "missing": quote what the row had in the
        # columns the mapping reads (computed only for the rows that fail this check)
        had = had_sql(source, field, types)
        gave_none = f"'no value from ''' || left({had}, 60) || ''' (the mapping gave none)'"
        reasons.append(  # a mapping that failed on the row has its own reason (failure_sql)
            f'case when "t_{field}" is not null and {_text(f"m_{field}", types.get(f"m_{field}"))} is null '
            f"then 'field {field}: ' || coalesce({gave_none}, 'missing') end"
        )
    if source.kind == "transactions" and "status" in source.columns:
        allowed = ", ".join(f"'{s}'" for s in TRANSACTION_STATUSES)
        reasons.append(
            f"case when status is not null and lower(status) not in ({allowed}) "
            f"then 'field status: ''' || status || ''' is not one of {', '.join(TRANSACTION_STATUSES)}' end"
        )
    if source.kind != "customers":
        keys = [f for f in ("customer_ref", "email", "phone", "device_id") if f in source.columns]
        empty = [f'{k} is null and "t_{k}" is not null' for k in keys]  # not empty: failed (failure_sql)
        reasons.append(
            f"case when {' and '.join(empty)} then 'no customer reference: {', '.join(keys)} all empty' end"
        )
    return reasons


def fingerprint_sql(kind: str) -> str:
    """SQL for a hash of a row's canonical values: two rows with the same id and fingerprint are one row twice."""
    fields = ", ".join(f"coalesce(cast(\"{f}\" as varchar), '\u2205')" for f in CANONICAL_FIELDS[kind])
    return f"md5(concat_ws('|', {fields}))"


def recency_sql(kind: str) -> str:
    """SQL for when a version of a row was made, for sources whose rows are versions (null: unknown)."""
    return "coalesce(updated_at, signup_ts)" if kind == "customers" else "null::timestamptz"


def raw_carried(source: SourceConfig) -> list[str]:
    """Raw columns the mappings read, carried through the check as `r_<index>` for the reasons to quote."""
    return sorted({c for expression in source.columns.values() for c in expression_columns(expression)})


def had_sql(source: SourceConfig, field: str, types: Mapping[str, str]) -> str:
    """SQL for the text of the raw columns the mapping of a required field reads (null when all empty).

    Tells "missing" from "unreadable" in a quarantine reason.
    """
    carried = raw_carried(source)
    raw = [
        _text(f'"r_{carried.index(name)}"', types.get(f"raw:{name}"))
        for name in sorted(expression_columns(source.columns[field]))
    ]
    return f"nullif(trim(concat_ws(' ', {', '.join(raw)})), '')" if raw else "null::varchar"


def _literal(text: str) -> str:
    """text as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def failure_sql(source: SourceConfig, field: str, types: Mapping[str, str]) -> str:
    """The reason for a row on which the mapping of field fails (`t_<field>` null): the expression, the values it read.

    e.g. `field ts: strptime(InvoiceDate, '%m/%d/%Y %H:%M') fails for InvoiceDate '13/45/2010 8:26'`.
    """
    expression = " ".join(source.columns[field].split())
    if len(expression) > 80:
        expression = expression[:77] + "..."
    carried = raw_carried(source)
    values = []
    for name in sorted(expression_columns(source.columns[field])):
        text = _text(f'"r_{carried.index(name)}"', types.get(f"raw:{name}"))
        values.append(f"{_literal(name + ' ')} || coalesce('''' || left({text}, 60) || '''', 'empty')")
    read = f" || ' fails for ' || concat_ws(', ', {', '.join(values)})" if values else " || ' fails'"
    return f'case when "t_{field}" is null then {_literal(f"field {field}: {expression}")}{read} end'


def mapping_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each mapping as staging evaluates it: a text column in arithmetic or compared with a number is a number.

    types: the raw columns' DuckDB types (`raw:<name>`, see value_types); a VARCHAR column used so
    (a CSV or Excel cell) is read as a DOUBLE (tasks.shared.expressions.text_as_numbers).
    """
    text = {
        key.removeprefix("raw:")
        for key, t in (types or {}).items()
        if key.startswith("raw:") and t == "VARCHAR"
    }
    return {field: text_as_numbers(expression, text) for field, expression in source.columns.items()}


def _mapped(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """Each mapping expression as `m_<field>` (the newline ends a trailing -- comment in an expression)."""
    return ",\n        ".join(
        f'({expr}\n) as "m_{field}"' for field, expr in mapping_sql(source, types).items()
    )


def _attempted(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """Each mapping evaluated per row as `t_<field>`: a struct {v: value}, null on a row where the expression fails.

    A conversion that fails on one cell (strptime, a cast, a text that is not a number) then sends
    that row to quarantine (failure_sql) instead of stopping the load. DuckDB's TRY() refuses
    volatile functions (random(), uuid()): those expressions are evaluated as they are.
    """
    attempts = []
    for field, expression in mapping_sql(source, types).items():
        value = f"struct_pack(v := ({expression}\n))"
        attempts.append(f'{value if is_volatile(expression) else f"try({value})"} as "t_{field}"')
    return ",\n        ".join(attempts)


def check_fragments(source: SourceConfig, types: Mapping[str, str] | None = None) -> dict[str, str]:
    """The fragments of sql/staging/checked.sql for a source: mapped and typed values, checks, row id.

    types: DuckDB types of the mapped values (`m_<field>`) and raw columns, when known (value_types).
    """
    fields = CANONICAL_FIELDS[source.kind]
    types = types or {}
    attempted = _attempted(source, types)
    # the raw columns that reasons quote (see had_sql and failure_sql), as r_<index>
    for index, name in enumerate(raw_carried(source)):
        attempted += f',\n        "{name.replace(chr(34), chr(34) * 2)}" as "r_{index}"'
    mapped = ",\n        ".join(
        f'struct_extract("t_{field}", \'v\') as "m_{field}"' for field in source.columns
    )
    typed = ",\n        ".join(
        f'{typed_sql(field, sql_type, types) if field in source.columns else f"null::{sql_type}"} as "{field}"'
        for field, sql_type in fields.items()
    )
    id_field = ID_FIELDS[source.kind]
    return {
        "attempted": attempted,
        "mapped": mapped,
        "typed": typed,
        "fields": ", ".join(f'"{field}"' for field in fields),
        "reasons": ",\n            ".join(reasons_sql(source, types)),
        "row_id": f'"{id_field}"' if id_field in source.columns else "null::varchar",
    }


def staging_columns(kind: str) -> str:
    """The column list of staging.<kind> (sql/staging/staging_table.sql): canonical fields and types."""
    return ",\n    ".join(f'"{field}" {sql_type}' for field, sql_type in CANONICAL_FIELDS[kind].items())


def create_staging_tables(wh: Warehouse) -> None:
    """Create staging.<kind> for every source kind if missing."""
    for kind in CANONICAL_FIELDS:
        wh.run(
            "staging/staging_table", identifiers={"kind": kind}, fragments={"columns": staging_columns(kind)}
        )


def raw_table(source: SourceConfig) -> str:
    """The quoted name of a source's raw table."""
    return quote_identifier(f"raw.{source.name}")


def raw_types(wh: Warehouse, source: SourceConfig) -> dict[str, str]:
    """DuckDB types of the raw columns of a source, as `raw:<name>`."""
    return {f"raw:{name}": sql_type for name, sql_type in wh.describe(raw_table(source))}


def value_types(wh: Warehouse, source: SourceConfig) -> dict[str, str]:
    """DuckDB types in raw: of each mapped value (`m_<field>`) and of each raw column (`raw:<name>`)."""
    types = raw_types(wh, source)
    return types | dict(wh.describe(f"select {_mapped(source, types)} from {raw_table(source)}"))


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


def build_checked(wh: Warehouse, source: SourceConfig, params: Mapping[str, Any]) -> None:
    """Build temp table _checked (sql/staging/checked.sql): the source's raw rows mapped, typed and checked."""
    fragments = check_fragments(source, value_types(wh, source))
    before = wh.scalar("select current_setting('disabled_optimizers')") or ""
    disabled = ",".join(dict.fromkeys([*filter(None, before.split(",")), HOISTING_OPTIMIZER]))
    wh.execute(f"set disabled_optimizers = {_literal(disabled)}")
    try:
        wh.build(
            "_checked",
            "staging/checked",
            params,
            temp=True,
            identifiers={"source": source.name},
            fragments=fragments,
        )
    finally:
        with suppress(duckdb.Error):  # after a failed statement the transaction only accepts a rollback
            wh.execute(f"set disabled_optimizers = {_literal(before)}")
