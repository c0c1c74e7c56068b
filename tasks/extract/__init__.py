"""Extract stage: sources into raw (with lineage), typed rows into staging, bad rows into quarantine.

Incremental: a file already loaded with the same content (same size and mtime, else the same
SHA-256) is not read again; a new or changed file is (a changed file's old rows are replaced); a
database source with a watermark loads only rows past it. `full_refresh` reloads a source from
scratch, and a change of a source's config re-stages its raw rows without reading files again.

Raw keeps each source's own columns as read (CSV as text, so leading zeros survive) plus lineage:
`_source`, `_file` (path relative to the config file's folder, or `postgres:<source>@<run>` for a
database batch), `_row` (1-based data row), `_loaded_at`, `_run_id`. Staging holds one table per
source kind with the canonical fields, typed. A row that fails a check goes to `audit.quarantine`
with field, reason and the raw row as JSON; another copy of a row (same id, same values) is dropped
and recorded in `audit.duplicates`; the same id with other values is quarantined. Per file,
`audit.load_audit` records rows read = staged + quarantined + duplicates dropped.
"""

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import duckdb
from prefect import get_run_logger, task

from tasks.extract.erased import drop_erased
from tasks.extract.readers import SourceFile, read_file, read_postgres, source_files
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import CANONICAL_FIELDS, ID_FIELDS, REQUIRED_FIELDS, TRANSACTION_STATUSES
from tasks.shared.errors import STAGE_TASK_OPTIONS, DataError
from tasks.shared.expressions import expression_columns
from tasks.shared.files import file_hash
from tasks.shared.warehouse import Warehouse, quote_identifier

# A date or date-time without any zone: read in the source's time zone. Anything else (an offset,
# Z, a zone name) is cast as an instant, so '2026-01-01 10:00 America/New_York' keeps its zone.
NAIVE_TIMESTAMP = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$"
# Timestamps more than this far past the load time are faults, not data.
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class SourceLoad:
    """What one source load did in one run."""

    source: str
    kind: str
    files: int  # files the source has
    files_loaded: int  # of those, read in this run
    rows_read: int
    rows_staged: int
    rows_quarantined: int
    duplicates_dropped: int
    status: str  # loaded | unchanged | restaged


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


# Value types that convert to a canonical type without going through text and without any loss:
# the text route (cast to varchar, trim, try_cast) gives the same value for every row.
EXACT_CASTS = {
    "double": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "DOUBLE"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
    "timestamptz": {"TIMESTAMP WITH TIME ZONE"},
}


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
    reasons = []
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
        reasons.append(
            f"case when {_text(f'm_{field}', types.get(f'm_{field}'))} is null "
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
        reasons.append(
            f"case when {' and '.join(f'{k} is null' for k in keys)} "
            f"then 'no customer reference: {', '.join(keys)} all empty' end"
        )
    return reasons


def fingerprint_sql(kind: str, prefix: str = "") -> str:
    """SQL for a hash of a row's canonical values: two rows with the same id and fingerprint are one row twice."""
    fields = ", ".join(
        f"coalesce(cast({prefix}\"{f}\" as varchar), '\u2205')" for f in CANONICAL_FIELDS[kind]
    )
    return f"md5(concat_ws('|', {fields}))"


def raw_carried(source: SourceConfig) -> list[str]:
    """Raw columns the reasons of required fields quote, carried through check_sql as `r_<index>`."""
    return sorted(
        {c for field in REQUIRED_FIELDS[source.kind] for c in expression_columns(source.columns[field])}
    )


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


def check_sql(source: SourceConfig, relation: str, types: Mapping[str, str] | None = None) -> str:
    """Select over relation (raw rows of the source): canonical typed fields, lineage, `_reason`, `_id`.

    types: DuckDB types of the mapped values (`m_<field>`) and raw columns, when known (value_types);
    `_duplicate_of` starts null (see mark_duplicates).
    """
    fields = CANONICAL_FIELDS[source.kind]
    types = types or {}
    # the newline ends a trailing -- comment inside an expression
    mapped = ",\n            ".join(f'({expr}\n) as "m_{field}"' for field, expr in source.columns.items())
    # the raw columns that required fields' reasons quote (see had_sql), as r_<index>
    for index, name in enumerate(raw_carried(source)):
        mapped += f',\n            "{name.replace(chr(34), chr(34) * 2)}" as "r_{index}"'
    typed = ",\n            ".join(
        f'{typed_sql(field, sql_type, types) if field in source.columns else f"null::{sql_type}"} as "{field}"'
        for field, sql_type in fields.items()
    )
    reasons = ",\n                ".join(reasons_sql(source, types))
    id_field = ID_FIELDS[source.kind]
    row_id = f'"{id_field}"' if id_field in source.columns else "null::varchar"
    names = ", ".join(f'"{field}"' for field in fields)
    return f"""
    with mapped as (
        select
            _file,
            _row,
            {mapped}
        from {quote_identifier(relation)}
    ),

    typed as (
        select
            *,
            {typed}
        from mapped
    ),

    final as (
        select
            _file,
            _row,
            {names},
            nullif(concat_ws('; ',
                {reasons}
            ), '') as _reason,
            {row_id} as _id,
            null::struct(file varchar, row bigint) as _duplicate_of
        from typed
    )

    select * from final
    """


def value_types(wh: Warehouse, source: SourceConfig, relation: str) -> dict[str, str]:
    """DuckDB types over relation: of each mapped value (`m_<field>`) and of each raw column (`raw:<name>`)."""
    types = {
        f"raw:{name}": sql_type
        for name, sql_type in wh.rows(
            f"select column_name, column_type from (describe {quote_identifier(relation)})"
        )
    }
    mapped = ", ".join(f'({expr}\n) as "m_{field}"' for field, expr in source.columns.items())
    types |= dict(
        wh.rows(
            f"select column_name, column_type from (describe select {mapped} from {quote_identifier(relation)})"
        )
    )
    return types


def check_mappings(wh: Warehouse, source: SourceConfig) -> None:
    """Bind every mapping expression against the rows to check (no rows read); a DataError names the field."""
    table = "_to_check"
    columns = raw_columns(wh, source)
    for field, expression in source.columns.items():
        try:
            wh.execute(f"select ({expression}\n) from {table} limit 0")
        except duckdb.Error as exc:
            raise DataError(
                f"source {source.name!r}: columns.{field} = {expression!r} fails: "
                f"{str(exc).splitlines()[0]}. Raw columns: {columns}"
            ) from None


def raw_columns(wh: Warehouse, source: SourceConfig) -> list[str]:
    """The source's own columns in raw, without lineage."""
    return [
        name
        for (name,) in wh.rows(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? "
            "order by ordinal_position",
            [source.name],
        )
        if not name.startswith("_")
    ]


def create_tables(wh: Warehouse) -> None:
    """Create the staging and audit tables if missing (they persist across runs: loads are incremental)."""
    for kind, fields in CANONICAL_FIELDS.items():
        columns = ", ".join(f'"{f}" {t}' for f, t in fields.items())
        wh.execute(
            f"create table if not exists staging.{kind} (source varchar, _file varchar, _row bigint, {columns})"
        )
    for ddl in AUDIT_TABLES:
        wh.execute(ddl)


AUDIT_TABLES = (
    """
    create table if not exists audit.quarantine (
        run_id varchar, source varchar, file varchar, row_number bigint, field varchar, reason varchar, record json
    )
    """,
    """
    create table if not exists audit.duplicates (
        run_id varchar, source varchar, file varchar, row_number bigint, id varchar,
        kept_file varchar, kept_row_number bigint
    )
    """,
    """
    create table if not exists audit.load_state (
        source varchar, file varchar, file_hash varchar, size bigint, mtime_ns bigint, watermark varchar,
        config_fingerprint varchar, loaded_at timestamptz, run_id varchar
    )
    """,
    """
    create table if not exists audit.load_audit (
        run_id varchar, source varchar, file varchar, file_hash varchar, rows_read bigint, rows_staged bigint,
        rows_quarantined bigint, duplicates_dropped bigint, seconds double, loaded_at timestamptz
    )
    """,
    """
    create table if not exists audit.extract_log (
        run_id varchar, source varchar, kind varchar, files integer, files_loaded integer, rows_read bigint,
        rows_staged bigint, rows_quarantined bigint, duplicates_dropped bigint, status varchar, loaded_at timestamptz
    )
    """,
)


def source_fingerprint(config: PipelineConfig, source: SourceConfig) -> str:
    """What staging of a source depends on besides its files: its config and the pipeline's time zone."""
    payload = json.dumps(
        [source.model_dump(mode="json"), config.timezone], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def forget_rows(wh: Warehouse, source: SourceConfig, files: list[str] | None = None) -> None:
    """Delete a source's rows (of some files, or all) from raw, staging, quarantine, duplicates and load state."""
    if files is None:
        where, params = "source = ?", [source.name]
    else:
        where, params = "source = ? and file in (select unnest(?::varchar[]))", [source.name, files]
    for table in ("audit.quarantine", "audit.duplicates", "audit.load_state"):
        wh.execute(f"delete from {table} where {where}", params)
    wh.execute(f"delete from staging.{source.kind} where {where.replace('file in', '_file in')}", params)
    raw = f"raw.{source.name}"
    if wh.table_exists(raw):
        if files is None:
            wh.execute(f"drop table {quote_identifier(raw)}")
        else:
            wh.execute(
                f"delete from {quote_identifier(raw)} where _file in (select unnest(?::varchar[]))", [files]
            )


def describe(wh: Warehouse, select: str, params: list) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of a select, without running it."""
    return wh.rows(f"select column_name, column_type from (describe {select})", params)


def append_raw(
    wh: Warehouse,
    source: SourceConfig,
    batch: str,
    params: list,
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter,
    columns: list[tuple[str, str]] | None = None,
) -> int:
    """Append the rows of a select (a file's or batch's rows with `_file`, `_row`) to raw.<source>.

    Adds lineage and any new columns; returns the rows appended. columns: the select's (name, type)
    when the caller has described it already.
    """
    raw = f"raw.{source.name}"
    target = quote_identifier(raw)
    select = (
        "select ? as _source, _file, _row, ?::timestamptz as _loaded_at, ? as _run_id, * exclude (_file, _row) "
        f"from ({batch})"
    )
    params = [source.name, datetime.now().astimezone(), run_id, *params]
    if not wh.table_exists(raw):
        wh.execute(f"create table {target} as {select}", params)
        return wh.count(raw)
    existing = set(wh.columns(raw))
    columns = columns or describe(wh, batch, params[3:])
    for name, sql_type in columns:
        if name not in existing:
            logger.warning(
                "source %s: new column %r kept in raw, not mapped to a canonical field", source.name, name
            )
            quoted = name.replace('"', '""')
            wh.execute(f'alter table {target} add column "{quoted}" {sql_type}')
    return wh.scalar(f"insert into {target} by name {select}", params)


def read_batch(
    wh: Warehouse,
    config: PipelineConfig,
    source: SourceConfig,
    files: list[SourceFile],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter,
) -> dict[str, int]:
    """Read files into raw.<source>; return rows read per file. A mapped column missing in a file is a DataError."""
    work_dir = config.warehouse_path.parent / f".extract-{run_id}"
    needed = source.referenced_columns()

    def load(file: SourceFile, select: str, params: list) -> int:
        columns = describe(wh, select, params)
        names = [name for name, _ in columns]
        missing = sorted(needed - set(names))
        if missing:
            raise DataError(
                f"source {source.name!r}: file {file.name} has no column {', '.join(map(repr, missing))} "
                f"used by the mapping (its columns: {[c for c in names if not c.startswith('_')]})"
            )
        return append_raw(wh, source, select, params, run_id, logger, columns)

    counts = {}
    try:
        for file in files:
            counts[file.name] = read_file(
                wh, source, file, work_dir, lambda select, params, file=file: load(file, select, params)
            )
    finally:  # no SQL here: after a failed statement the transaction only accepts a rollback
        if work_dir.exists():
            for leftover in work_dir.glob("*"):
                leftover.unlink()
            work_dir.rmdir()
    return counts


def stage_rows(
    wh: Warehouse, config: PipelineConfig, source: SourceConfig, run_id: str, all_rows: bool = False
) -> dict[str, tuple[int, int, int]]:
    """Check the raw rows this run read (all raw rows of the source when all_rows) and stage them.

    Returns (staged, quarantined, dropped) per file.
    """
    raw = quote_identifier(f"raw.{source.name}")
    # a view, not a copy: the rows this run appended (the files it read) are those with its run id
    this_run = "" if all_rows else " where _run_id = '" + run_id.replace("'", "''") + "'"
    wh.execute(f"create or replace temp view _to_check as select * from {raw}{this_run}")
    check_mappings(wh, source)
    params = {
        "tz": source.timezone or config.timezone,
        "future_limit": datetime.now().astimezone() + FUTURE_TOLERANCE,
    }
    try:
        types = value_types(wh, source, "_to_check")
        wh.execute(
            f"create or replace temp table _checked as {check_sql(source, '_to_check', types)}", params
        )
    except duckdb.Error as exc:
        raise DataError(
            f"source {source.name!r}: a column mapping failed on the data: {str(exc).splitlines()[0]}. "
            "Use try_cast / try_strptime in the mapping so that bad values go to quarantine instead."
        ) from None
    mark_duplicates(wh, source)
    fields = ", ".join(f'"{f}"' for f in CANONICAL_FIELDS[source.kind])
    good = "_reason is null and _duplicate_of is null"
    if replaces_versions(source):
        # a row with a known id is a newer version (a database row past the watermark, a customer
        # record exported again): it replaces the staged one
        id_field = ID_FIELDS[source.kind]
        wh.execute(
            f'delete from staging.{source.kind} where source = ? and "{id_field}" in '
            f'(select "{id_field}" from _checked where {good})',
            [source.name],
        )
    wh.execute(
        f"insert into staging.{source.kind} select ? as source, _file, _row, {fields} from _checked where {good}",
        [source.name],
    )
    wh.execute(
        """
        insert into audit.quarantine
        select ?, ?, c._file, c._row, nullif(regexp_extract(c._reason, '^field ([a-z_]+):', 1), ''), c._reason,
            to_json(r)::varchar
        from _checked c
        join _to_check r on r._file = c._file and r._row = c._row
        where c._reason is not null
        """,
        [run_id, source.name],
    )
    wh.execute(
        """
        insert into audit.duplicates
        select ?, ?, _file, _row, _id, _duplicate_of.file, _duplicate_of.row
        from _checked where _duplicate_of is not null and _reason is null
        """,
        [run_id, source.name],
    )
    counts = {
        file: (staged, quarantined, dropped)
        for file, staged, quarantined, dropped in wh.rows(
            f"""
            select
                _file,
                count(*) filter (where {good}),
                count(*) filter (where _reason is not null),
                count(*) filter (where _reason is null and _duplicate_of is not null)
            from _checked
            group by _file
            """
        )
    }
    wh.execute("drop table _checked")
    wh.execute("drop view _to_check")
    return counts


def replaces_versions(source: SourceConfig) -> bool:
    """Whether a later row with a known id is a new version of it (replaces) rather than a duplicate or conflict.

    True for database sources with a watermark and for customers sources (a CRM exports its members
    again when they change); transactions, events and feedback are facts: they do not change.
    """
    return source.watermark is not None or source.kind == "customers"


def mark_duplicates(wh: Warehouse, source: SourceConfig) -> None:
    """Set `_duplicate_of` of _checked rows that repeat an id; quarantine same-id rows whose values differ.

    The first row of an id wins: one already staged (from an earlier file or run), else the first by
    file and row. A later row with the same values is a duplicate (dropped, recorded); with other
    values it is a conflict (quarantined). A source whose rows are versions (see replaces_versions)
    keeps the newest version of an id, replaces the staged one with it, and drops older ones of the batch.
    """
    id_field = ID_FIELDS[source.kind]
    if id_field not in source.columns:
        return
    newest_first = replaces_versions(source)
    # customers: the most recently updated version wins, then the later file and row
    recency = "coalesce(updated_at, signup_ts)" if source.kind == "customers" else "null::timestamptz"
    order = (
        "existing desc, recency desc nulls last, _file desc, _row desc"
        if newest_first
        else "existing desc, _file, _row"
    )
    # Only ids seen more than once (in the batch, or in the batch and already staged) can have a
    # duplicate: the fingerprints are computed for those rows alone.
    staged_ids = (
        f'select "{id_field}" from staging.{source.kind} '
        f'where source = $source and "{id_field}" in (select _id from _checked)'
    )
    staged = (
        f'select "{id_field}", {fingerprint_sql(source.kind)}, _file, _row, 1, null from staging.{source.kind} '
        f'where source = $source and "{id_field}" in (select _id from _checked)'
    )
    wh.execute(
        f"""
        create or replace temp table _ranked as
        with repeated as (
            select _id from _checked where _reason is null and _id is not null group by _id having count(*) > 1
            {"" if newest_first else "union " + staged_ids}
        ),
        candidates as (
            select _id as id, {fingerprint_sql(source.kind)} as fingerprint, _file, _row, 0 as existing,
                {recency} as recency
            from _checked
            where _reason is null and _id in (select _id from repeated)
            {"" if newest_first else "union all " + staged}
        ),
        ranked as (
            select
                *,
                first_value(struct_pack(file := _file, row := _row, fingerprint := fingerprint)) over (
                    partition by id order by {order}
                ) as first,
                row_number() over (partition by id order by {order}) as n
            from candidates
        )
        select * from ranked where existing = 0 and n > 1
        """,
        {"source": source.name},
    )
    same = "true" if newest_first else "r.first.fingerprint = r.fingerprint"
    wh.execute(
        f"""
        update _checked set _duplicate_of = struct_pack(file := r.first.file, row := r.first.row)
        from _ranked r
        where _checked._file = r._file and _checked._row = r._row and {same}
        """
    )
    wh.execute(
        f"""
        update _checked
        set _reason = 'duplicate {id_field} ''' || r.id || ''' with other values than '
            || r.first.file || ' row ' || r.first.row
        from _ranked r
        where _checked._file = r._file and _checked._row = r._row and not ({same})
        """
    )
    wh.execute("drop table _ranked")


def scan_files(
    wh: Warehouse, config: PipelineConfig, source: SourceConfig, state: dict[str, dict]
) -> tuple[int, list[SourceFile], list[str], dict[str, str]]:
    """Compare a source's files with what was loaded: (file count, new or changed files, gone files, hashes)."""
    files = source_files(config, source)
    hashes, changed = {}, []
    for file in files:
        known = state.get(file.name)
        if known and known["size"] == file.size and known["mtime_ns"] == file.mtime_ns:
            hashes[file.name] = known["file_hash"]
            continue
        hashes[file.name] = file_hash(file.path)
        if not known or known["file_hash"] != hashes[file.name]:
            changed.append(file)
        else:  # touched, same content
            wh.execute(
                "update audit.load_state set size = ?, mtime_ns = ? where source = ? and file = ?",
                [file.size, file.mtime_ns, source.name, file.name],
            )
    return len(files), changed, sorted(set(state) - set(hashes)), hashes


def extract_source(
    wh: Warehouse,
    config: PipelineConfig,
    source: SourceConfig,
    run_id: str,
    full_refresh: bool,
    logger: logging.Logger | logging.LoggerAdapter,
) -> SourceLoad:
    """Load what is new in one source into raw and staging; return what was done."""
    started = time.monotonic()
    fingerprint = source_fingerprint(config, source)
    if full_refresh:
        forget_rows(wh, source)
    state = {
        row["file"]: row for row in wh.dicts("select * from audit.load_state where source = ?", [source.name])
    }
    restage = any(row["config_fingerprint"] != fingerprint for row in state.values())
    new_state: dict[str, tuple] = {}
    if source.format == "postgres":
        since = max((row["watermark"] for row in state.values() if row["watermark"]), default=None)
        batch = f"postgres:{source.name}@{run_id}"
        read_postgres(wh, source, "_one_file", since if source.watermark else None, batch)
        rows = wh.count("_one_file")
        if source.watermark is None and rows:
            forget_rows(wh, source)  # without a watermark every read is a full snapshot
            restage = False
        read = {batch: rows} if rows else {}
        if rows:
            append_raw(wh, source, "select * from _one_file", [], run_id, logger)
            mark = (
                wh.scalar(f'select max("{source.watermark}")::varchar from _one_file')
                if source.watermark
                else None
            )
            new_state[batch] = (None, None, None, mark)
        wh.execute("drop table _one_file")
        files_total, hashes = 1, {}
    else:
        files_total, changed, removed, hashes = scan_files(wh, config, source, state)
        replaced = [f.name for f in changed if f.name in state]
        if removed or replaced:
            logger.info("source %s: %d files changed, %d removed", source.name, len(replaced), len(removed))
            forget_rows(wh, source, removed + replaced)
        read = read_batch(wh, config, source, changed, run_id, logger) if changed else {}
        new_state = {f.name: (hashes[f.name], f.size, f.mtime_ns, None) for f in changed}
    if not read and not restage:
        logger.info("source %s: nothing new (%d files already loaded)", source.name, files_total)
        load = SourceLoad(source.name, source.kind, files_total, 0, 0, 0, 0, 0, "unchanged")
        record_load(wh, run_id, load)
        return load
    if restage:
        logger.info("source %s: its config changed; re-staging all its raw rows", source.name)
        for table in ("audit.quarantine", "audit.duplicates"):
            wh.execute(f"delete from {table} where source = ?", [source.name])
        wh.execute(f"delete from staging.{source.kind} where source = ?", [source.name])
        wh.execute(
            "update audit.load_state set config_fingerprint = ? where source = ?", [fingerprint, source.name]
        )
    counts = stage_rows(wh, config, source, run_id, all_rows=restage)
    for name, (digest, size, mtime_ns, watermark) in new_state.items():
        wh.execute(
            "insert into audit.load_state values (?, ?, ?, ?, ?, ?, ?, now(), ?)",
            [source.name, name, digest, size, mtime_ns, watermark, fingerprint, run_id],
        )
    seconds = time.monotonic() - started
    for name, rows in read.items():
        staged, quarantined, dropped = counts.get(name, (0, 0, 0))
        if rows != staged + quarantined + dropped:
            raise DataError(
                f"source {source.name!r}: {name}: {rows} rows read but {staged} staged + {quarantined} quarantined "
                f"+ {dropped} duplicates dropped"
            )
        wh.execute(
            "insert into audit.load_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [run_id, source.name, name, hashes.get(name), rows, staged, quarantined, dropped, seconds],
        )
    staged, quarantined, dropped = (sum(c[i] for c in counts.values()) for i in range(3))
    load = SourceLoad(
        source=source.name,
        kind=source.kind,
        files=files_total,
        files_loaded=len(read),
        rows_read=staged + quarantined + dropped,
        rows_staged=staged,
        rows_quarantined=quarantined,
        duplicates_dropped=dropped,
        status="restaged" if restage else "loaded",
    )
    check_bad_share(wh, source, load, run_id)
    record_load(wh, run_id, load)
    return load


def check_bad_share(wh: Warehouse, source: SourceConfig, load: SourceLoad, run_id: str) -> None:
    """A DataError when a load quarantined more than the source's max_bad_row_share of its rows."""
    if not load.rows_read or load.rows_quarantined / load.rows_read <= source.max_bad_row_share:
        return
    reasons = wh.rows(
        """
        select regexp_replace(reason, '''[^'']*''', '''...''', 'g') as reason, count(*) as n
        from audit.quarantine where source = ? and run_id = ? group by 1 order by n desc, reason limit 3
        """,
        [source.name, run_id],
    )
    raise DataError(
        f"source {source.name!r}: {load.rows_quarantined} of {load.rows_read} rows "
        f"({load.rows_quarantined / load.rows_read:.1%}) failed checks, more than max_bad_row_share "
        f"{source.max_bad_row_share:.1%}; nothing was loaded or published. Most frequent: "
        + "; ".join(f"{n} x {reason}" for reason, n in reasons)
    )


def record_load(wh: Warehouse, run_id: str, load: SourceLoad) -> None:
    """Append a source load to audit.extract_log."""
    wh.execute(
        "insert into audit.extract_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [run_id, *asdict(load).values()],
    )


def extract_all(
    wh: Warehouse,
    config: PipelineConfig,
    run_id: str,
    full_refresh: list[str] | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> list[SourceLoad]:
    """Load every source in one transaction (all or nothing); return what was done per source.

    full_refresh: names of sources to reload from scratch, or ["all"].
    """
    logger = logger or logging.getLogger(__name__)
    refresh = set(full_refresh or [])
    unknown = refresh - {s.name for s in config.sources} - {"all"}
    if unknown:
        raise DataError(
            f"--full-refresh of unknown sources {sorted(unknown)}; sources: {[s.name for s in config.sources]}"
        )
    with wh.transaction():
        create_tables(wh)
        loads = [
            extract_source(wh, config, source, run_id, "all" in refresh or source.name in refresh, logger)
            for source in config.sources
        ]
        drop_erased(wh, config)  # erased people stay erased when their source files are read again
        return loads


@task(name="extract", **STAGE_TASK_OPTIONS)
def extract(config: PipelineConfig, run_id: str, full_refresh: list[str] | None = None) -> list[dict]:
    """Load what is new in every source into raw and staging; return counts per source."""
    logger = get_run_logger()
    with Warehouse.open(config) as wh:
        loads = extract_all(wh, config, run_id, full_refresh, logger)
    for load in loads:
        logger.info(
            "%s: %s; %d of %d files read, %d rows read, %d staged, %d quarantined, %d duplicates dropped",
            load.source,
            load.status,
            load.files_loaded,
            load.files,
            load.rows_read,
            load.rows_staged,
            load.rows_quarantined,
            load.duplicates_dropped,
        )
    return [asdict(load) for load in loads]
