"""The staging template filler: SQL fragments built from a source's config for the models in sql/staging/.

The skeletons (the check query, the staging tables, duplicate ranking) are model files; this module
builds only what varies with the config: the mapping expressions, the typed canonical fields, the
checks each row must pass, a row's fingerprint. It is the one place that writes SQL text from the config.
"""

from collections.abc import Mapping
from contextlib import suppress
from typing import Any

import duckdb

from tasks.extract.amount_checks import max_amount_reasons
from tasks.extract.id_checks import control_character_reasons, customer_ref_sql
from tasks.extract.number_checks import number_reasons
from tasks.extract.tables import (
    create_staging_tables,
    raw_table,
    raw_types,
    staging_tables,
    unattributed_table,
)
from tasks.extract.time_checks import date_sql, time_reasons, timestamp_sql
from tasks.shared.config import SourceConfig
from tasks.shared.contracts import (
    CANONICAL_FIELDS,
    DEFAULT_AMOUNT_SCALE,
    FACT_KINDS,
    ID_FIELDS,
    MAX_AMOUNT_SCALE,
    REQUIRED_FIELDS,
    TRANSACTION_STATUSES,
    amount_type,
)
from tasks.shared.expressions import expression_columns, is_volatile, text_as_numbers
from tasks.shared.money import (
    FULL_WIDTH,
    HALF_WIDTH,
    amount_reason_sql,
    currency_reasons_sql,
    currency_sql,
    double_shown_sql,
    normalize_sql,
    parts_sql,
    read_sql,
)
from tasks.shared.warehouse import Warehouse, quote_identifier

# Value types read as a DOUBLE amount (binary fractions: see tasks.shared.money).
DOUBLE_TYPES = ("DOUBLE", "FLOAT")
# The reason of a row that says nobody's it is (its only one, the check comes last): staged apart as
# unattributed (staging.unattributed_<kind>), neither quarantined nor a bad row.
UNATTRIBUTED = "no customer reference"


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


def text_sql(column: str, column_type: str | None = None) -> str:
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


def texted(source: SourceConfig, field: str, types: Mapping[str, str] | None) -> bool:
    """Whether the mapped value of field is read as text on every row: then computed once, as `x_<field>`.

    A value that casts exactly (exact_cast) is read as text only in the reason of a row that fails.
    """
    return field in source.columns and not exact_cast(field, field_type(source, field), types)


def mapped_text(source: SourceConfig, field: str, types: Mapping[str, str] | None) -> str:
    """SQL for the mapped value of field as text (text_sql): the column `x_<field>` when texted, else inline."""
    if texted(source, field, types):
        return f'"x_{field}"'
    return text_sql(f'"m_{field}"', (types or {}).get(f"m_{field}"))


def texts_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """The `texts` fragment of sql/staging/checked.sql: each texted mapped value as text once, `x_<field>`.

    The trims and casts it takes are the costliest part of the check when repeated: a timestamp's
    text is read by three typed expressions and two checks (the common-subexpression optimizer is
    off while staging evaluates the mappings: HOISTING_OPTIMIZER).
    """
    texts = [
        f'{text_sql(chr(34) + "m_" + field + chr(34), (types or {}).get(f"m_{field}"))} as "x_{field}"'
        for field in source.columns
        if texted(source, field, types)
    ]
    return ",\n        ".join(texts) or 'null as "x_"'


def amount_scale(source: SourceConfig) -> int:
    """The most decimals the source's amounts may have (the pipeline config fills it in)."""
    return DEFAULT_AMOUNT_SCALE if source.amount_scale is None else source.amount_scale


def field_type(source: SourceConfig, field: str) -> str:
    """The DuckDB type of a canonical field of the source: the amount's follows its amount_scale."""
    if source.kind == "transactions" and field == "amount":
        return amount_type(amount_scale(source))
    return CANONICAL_FIELDS[source.kind][field]


def _amount_parts(source: SourceConfig, types: Mapping[str, str] | None) -> str | None:
    """SQL for the parts of a transaction's text amount (`_amount`); None when it is a DOUBLE or not mapped."""
    double = (types or {}).get("m_amount") in DOUBLE_TYPES
    return None if double or source.kind != "transactions" or "amount" not in source.columns else '"_amount"'


def typed_sql(
    source: SourceConfig, field: str, types: Mapping[str, str] | None = None, date_order: str = "reject"
) -> str:
    """SQL that turns the mapped value `m_<field>` into the canonical type, null when it does not parse (dates: date_sql)."""
    sql_type = field_type(source, field)
    text = mapped_text(source, field, types)
    if source.kind == "transactions" and field == "amount":
        return '"_amount_value"'
    if source.kind == "transactions" and field == "currency":
        mapped = "currency" in source.columns
        return currency_sql(text if mapped else None, '"_currency"' if mapped else None, '"_amount_mark"')
    if exact_cast(field, sql_type, types):
        return f'cast("m_{field}" as {sql_type})'
    if field == "status":
        return f"lower({text})"
    if sql_type == "varchar":
        return customer_ref_sql(text) if field == "customer_ref" else text
    if sql_type == "timestamptz":
        return timestamp_sql(text)
    if sql_type == "date":
        return date_sql(text, date_order)
    if sql_type == "double":  # full-width digits are digits; 1_000 is not a number
        number = f"translate({text}, {_literal(FULL_WIDTH)}, {_literal(HALF_WIDTH)})"
        return f"case when not contains({text}, '_') then try_cast({number} as double) end"
    return f"try_cast({text} as {sql_type})"


def parsed_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """The `parsed` fragment of sql/staging/checked.sql: an amount's parts (`_amount`), a currency's text (`_currency`).

    Computed once per row here, read by several typed values and checks (tasks.shared.money).
    """
    types = types or {}
    parsed = ['null as "_amount"', 'null::varchar as "_currency"']
    if _amount_parts(source, types) is not None:
        parsed[0] = f'{parts_sql(mapped_text(source, "amount", types))} as "_amount"'
    if source.kind == "transactions" and "currency" in source.columns:
        text = mapped_text(source, "currency", types)  # a plain code skips normalize_sql
        code = f"case when regexp_full_match({text}, '[A-Za-z]{{3}}') then upper({text}) else {normalize_sql(text)} end"
        parsed[1] = f'{code} as "_currency"'
    return ",\n        ".join(parsed)


def amounts_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """The `amounts` fragment of sql/staging/checked.sql: a transaction's amount read once (money.read_sql)."""
    types = types or {}
    if source.kind == "transactions" and "amount" in source.columns:
        text = mapped_text(source, "amount", types)
        read = read_sql(_amount_parts(source, types), '"m_amount"', text, amount_scale(source))
    else:
        read = {
            "_amount_value": f"null::{amount_type(amount_scale(source))}",
            "_amount_too_precise": "false",
            "_amount_mark": "null::varchar",
        }
    return ",\n        ".join(f'{sql} as "{name}"' for name, sql in read.items())


def value_reasons(source: SourceConfig, field: str, types: Mapping[str, str]) -> list[str]:
    """The checks of a typed value: it converts, and is exact (amounts), finite and in range (numbers, times)."""
    text = mapped_text(source, field, types)
    sql_type = field_type(source, field)
    if source.kind == "transactions" and field == "amount":
        shown = double_shown_sql('"m_amount"') if types.get("m_amount") in DOUBLE_TYPES else None
        return [amount_reason_sql(text, '"_amount_too_precise"', '"amount"', amount_scale(source), shown)]
    if source.kind == "transactions" and field == "currency":
        amount = mapped_text(source, "amount", types)
        return currency_reasons_sql(text, '"_amount_mark"', amount, '"currency"')
    reasons = []
    value = f'"{field}"'
    quoted = f"'field {field}: ''' || left({text}, 60) || ''' is"  # an open literal
    if sql_type != "varchar" and not exact_cast(field, sql_type, types):
        reasons.append(
            f"case when {text} is not null and {value} is null then {quoted} not a valid {sql_type}' end"
        )
    if sql_type == "double":
        reasons += number_reasons(source.kind, field, value, quoted)
    if sql_type in ("timestamptz", "date"):
        reasons += time_reasons(field, value, quoted, sql_type, source.kind in FACT_KINDS)
    return reasons


def reasons_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> list[str]:
    """One SQL expression per check, each null when the row passes it, else the reason."""
    types = types or {}
    reasons = [failure_sql(source, field, types) for field in source.columns]
    if source.where is not None:  # a row the where fails on is checked, and quarantined for it (kept_sql)
        reasons.append(
            f"case when _where_failed then {_literal(f'where: {source.where!r} fails on this row')} end"
        )
    for field in source.columns:
        reasons += value_reasons(source, field, types)
    reasons += control_character_reasons(source) + max_amount_reasons(source)
    for field in REQUIRED_FIELDS[source.kind]:
        # a value the mapping could not read is not "missing": quote what the row had in the
        # columns the mapping reads (computed only for the rows that fail this check)
        had = had_sql(source, field, types)
        gave_none = f"'no value from ''' || left({had}, 60) || ''' (the mapping gave none)'"
        # a value that casts exactly is never empty text: its text is null when the value is
        empty = (
            f'"m_{field}"'
            if exact_cast(field, field_type(source, field), types)
            else mapped_text(source, field, types)
        )
        reasons.append(  # a mapping that failed on the row has its own reason (failure_sql)
            f'case when "t_{field}" is not null and {empty} is null '
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
        reasons.append(  # last: see UNATTRIBUTED
            f"case when {' and '.join(empty)} then '{UNATTRIBUTED}: {', '.join(keys)} all empty' end"
        )
    return reasons


def fingerprint_sql(kind: str) -> str:
    """SQL for a hash of a row's canonical values: two rows with the same id and fingerprint are one row twice."""
    # amounts as one decimal type: 12.50 staged at amount_scale 2 repeats 12.500 read at scale 3
    fields = ", ".join(
        f"coalesce(cast(cast(\"{f}\" as decimal(38,{MAX_AMOUNT_SCALE})) as varchar), '\u2205')"
        if sql_type.startswith("decimal")
        else f"coalesce(cast(\"{f}\" as varchar), '\u2205')"
        for f, sql_type in CANONICAL_FIELDS[kind].items()
    )
    return f"md5(concat_ws('|', {fields}))"


def raw_carried(source: SourceConfig) -> list[str]:
    """Raw columns the mappings read, carried through the check as `r_<index>` for the reasons to quote."""
    return sorted({c for expression in source.columns.values() for c in expression_columns(expression)})


def had_sql(source: SourceConfig, field: str, types: Mapping[str, str]) -> str:
    """SQL for the text of the raw columns the mapping of a required field reads (null when all empty).

    Tells "missing" from "unreadable" in a quarantine reason.
    """
    carried = raw_carried(source)
    raw = [
        text_sql(f'"r_{carried.index(name)}"', types.get(f"raw:{name}"))
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
    expression = failure_prefix(source, field)
    carried = raw_carried(source)
    values = []
    for name in sorted(expression_columns(source.columns[field])):
        text = text_sql(f'"r_{carried.index(name)}"', types.get(f"raw:{name}"))
        # a quote in the value doubled, as SQL writes it: every quoted value has its pair of quotes
        quoted = f"'''' || replace(left({text}, 60), '''', '''''') || ''''"
        values.append(f"{_literal(name + ' ')} || coalesce({quoted}, 'empty')")
    read = f" || ' fails for ' || concat_ws(', ', {', '.join(values)})" if values else " || ' fails'"
    return f'case when "t_{field}" is null then {_literal(expression)}{read} end'


def failure_prefix(source: SourceConfig, field: str) -> str:
    """How a failing mapping's reason starts: `field ts: strptime(InvoiceDate, '%d/%m/%Y %H:%M')` (the expression
    cut at 80 characters)."""
    expression = " ".join(source.columns[field].split())
    return f"field {field}: {expression if len(expression) <= 80 else expression[:77] + '...'}"


def mapping_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each mapping as staging evaluates it: a text column in arithmetic or compared with a number is a number.

    types: the raw columns' DuckDB types (`raw:<name>`, see value_types); a VARCHAR column used so
    (a CSV or Excel cell) is read as a DOUBLE (tasks.shared.expressions.text_as_numbers).
    """
    text = text_columns(types)
    return {field: text_as_numbers(expression, text) for field, expression in source.columns.items()}


def text_columns(types: Mapping[str, str] | None) -> set[str]:
    """The raw columns of VARCHAR type (CSV and Excel cells), from value_types' `raw:<name>` keys."""
    return {
        key.removeprefix("raw:")
        for key, t in (types or {}).items()
        if key.startswith("raw:") and t == "VARCHAR"
    }


def kept_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """The source's `where` as a condition true of the rows it stages (false or null: filtered out), evaluated as
    mappings are (mapping_sql); `true` without one. A row it fails on (a text that is no number in arithmetic) is
    kept: staging quarantines it with the reason (reasons_sql), never leaves it out unsaid."""
    if source.where is None:
        return "true"
    attempt = where_attempt(source, types)
    return f"({attempt} is null or coalesce(({attempt}).v, false))"


def where_sql(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """The source's `where` as staging evaluates it (a text column in arithmetic or compared with a number is a
    number, as in mapping_sql); `true` without one."""
    return text_as_numbers(source.where or "true", text_columns(types))


def where_attempt(source: SourceConfig, types: Mapping[str, str] | None = None) -> str:
    """The source's `where` per row as a struct {v: its value}, null on a row it fails on."""
    return f"try(struct_pack(v := ({where_sql(source, types)}\n)))"


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


def check_fragments(
    source: SourceConfig, types: Mapping[str, str] | None = None, date_order: str = "reject"
) -> dict[str, str]:
    """The fragments of sql/staging/checked.sql for a source: mapped and typed values, checks, row id.

    types: DuckDB types of the mapped values (`m_<field>`) and raw columns, when known (value_types); date_order:
    how a text date such as 02/01/1990 is read (dedupe.date_order).
    """
    types = types or {}
    attempted = _attempted(source, types)
    # the raw columns that reasons quote (see had_sql and failure_sql), as r_<index>
    for index, name in enumerate(raw_carried(source)):
        attempted += f',\n        "{name.replace(chr(34), chr(34) * 2)}" as "r_{index}"'
    if source.where is not None:
        attempted += f",\n        {where_attempt(source, types)} is null as _where_failed"
    mapped = ",\n        ".join(
        f'struct_extract("t_{field}", \'v\') as "m_{field}"' for field in source.columns
    )
    fields = {field: field_type(source, field) for field in CANONICAL_FIELDS[source.kind]}
    # a transaction's currency may come from its amount's mark (¥, 元, $) without a currency mapped
    typed = ",\n        ".join(
        f'{typed_sql(source, field, types, date_order)} as "{field}"'
        if field in source.columns or (field == "currency" and _amount_parts(source, types))
        else f'null::{sql_type} as "{field}"'
        for field, sql_type in fields.items()
    )
    id_field = ID_FIELDS[source.kind]
    return {
        "attempted": attempted,
        "mapped": mapped,
        "texts": texts_sql(source, types),
        "parsed": parsed_sql(source, types),
        "amounts": amounts_sql(source, types),
        "typed": typed,
        "fields": ", ".join(f'"{field}"' for field in fields),
        "reasons": ",\n            ".join(reasons_sql(source, types)),
        "row_id": f'"{id_field}"' if id_field in source.columns else "null::varchar",
        "kept": kept_sql(source, types),
    }


def widen_amounts(wh: Warehouse, scale: int) -> None:
    """Give staged amounts at least scale decimals (a source allows more than the tables hold); no value changes."""
    held = wh.scalar(
        "select numeric_scale from information_schema.columns "
        "where table_schema = 'staging' and table_name = 'transactions' and column_name = 'amount'"
    )
    if held is not None and held < scale:
        for table in staging_tables("transactions"):
            wh.execute(f"alter table {quote_identifier(table)} alter column amount type {amount_type(scale)}")


def stage_unattributed(wh: Warehouse, source: SourceConfig, params: Mapping[str, Any], rows: int) -> int:
    """Stage the unattributed rows of _checked (sql/staging/unattributed_rows.sql) in place of their earlier copies.

    The raw rows checked again replace their staged copies (re-staging all rows replaces all of the
    source's; the rows of a removed or rewritten file went with it, load_state.forget_rows). rows: how many
    there are to stage (sql/staging/checked_counts.sql counts them). Returns the rows staged.
    """
    if source.kind not in FACT_KINDS:
        return 0
    table = quote_identifier(unattributed_table(source.kind))
    checked = "" if params.get("all_rows") else " and (_file, _row) in (select _file, _row from _checked)"
    wh.execute(f"delete from {table} where source = ?{checked}", [source.name])
    # no insert of no rows: in a DuckDB 2.0 transaction it hides the rows a later large insert appends
    # to the same table (see tasks.extract.raw)
    if not rows:
        return 0
    return wh.insert(unattributed_table(source.kind), "staging/unattributed_rows", {"source": source.name})


def value_types(wh: Warehouse, source: SourceConfig) -> dict[str, str]:
    """DuckDB types in raw: of each mapped value (`m_<field>`) and of each raw column (`raw:<name>`)."""
    types = raw_types(wh, source)
    return types | dict(wh.describe(f"select {_mapped(source, types)} from {raw_table(source)}"))


def build_checked(
    wh: Warehouse,
    source: SourceConfig,
    params: Mapping[str, Any],
    raw_rows: str | None = None,
    date_order: str = "reject",
    types: Mapping[str, str] | None = None,
) -> None:
    """Build temp table _checked (sql/staging/checked.sql): the source's raw rows mapped, typed and checked.

    The staging tables are made ready for the rows (created, amounts widened to the source's
    amount_scale); tasks.extract.stage_rows stages, quarantines or drops the rows once their copies are
    marked (the unattributed ones with stage_unattributed). raw_rows: the relation of the raw rows checked
    (raw.<source> unless given).
    """
    create_staging_tables(wh)
    if source.kind == "transactions":
        widen_amounts(wh, amount_scale(source))
    fragments = check_fragments(source, value_types(wh, source) if types is None else types, date_order)
    before = wh.scalar("select current_setting('disabled_optimizers')") or ""
    disabled = ",".join(dict.fromkeys([*filter(None, before.split(",")), HOISTING_OPTIMIZER]))
    wh.execute(f"set disabled_optimizers = {_literal(disabled)}")
    try:
        wh.build(
            "_checked",
            "staging/checked",
            params,
            temp=True,
            identifiers={"raw_rows": raw_rows or f"raw.{source.name}"},
            fragments=fragments,
        )
    finally:
        with suppress(duckdb.Error):  # after a failed statement the transaction only accepts a rollback
            wh.execute(f"set disabled_optimizers = {_literal(before)}")
