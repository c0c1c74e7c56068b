"""Extract stage: every source file into raw (with lineage), typed rows into staging, bad rows into quarantine.

Raw keeps each source's own columns as read (CSV as text, so leading zeros survive) plus
lineage: `_source`, `_file` (path relative to the config file's folder, absolute when outside it),
`_row` (1-based data row in the file), `_loaded_at`, `_run_id`.
Staging holds one table per source kind with the canonical fields, typed. A row that fails a
check goes to `audit.quarantine` with its reason and the raw row as JSON; the stage fails
unless rows read = rows staged + rows quarantined for every source.
"""

import codecs
import glob
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.config import CANONICAL_FIELDS, REQUIRED_FIELDS, TRANSACTION_STATUSES, PipelineConfig, SourceConfig
from tasks.errors import STAGE_TASK_OPTIONS, DataError
from tasks.warehouse import Warehouse, quote_identifier

# Reader options a config may pass through. Options that silently drop rows (ignore_errors) are not here.
READER_OPTIONS = {
    "csv": {
        "delim",
        "sep",
        "quote",
        "escape",
        "header",
        "skip",
        "comment",
        "nullstr",
        "new_line",
        "max_line_size",
    },
    "jsonl": {"maximum_object_size", "sample_size", "date_format", "timestamp_format"},
    "parquet": {"binary_as_string"},
}
UTF8_NAMES = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig"}
# The natural id of each kind: a second row with the same id is quarantined as a duplicate.
ID_FIELDS = {
    "customers": "source_id",
    "transactions": "txn_id",
    "events": "event_id",
    "feedback": "feedback_id",
}
# A time of day followed by a zone: '2026-01-01 10:00:00+08:00', '...T02:00Z'. A bare date has none.
OFFSET_SUFFIX = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*([+-][0-9]{2}(:?[0-9]{2})?|Z|UTC)$"
# Timestamps more than this far past the load time are faults, not data.
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class SourceLoad:
    """What one source load did."""

    source: str
    kind: str
    files: int
    rows_read: int
    rows_staged: int
    rows_quarantined: int


def source_files(config: PipelineConfig, source: SourceConfig) -> list[Path]:
    """The files a source's glob matches, sorted; a DataError if there are none."""
    pattern = str(config.resolve(Path(source.path)))
    files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not files:
        raise DataError(f"source {source.name!r}: no files match {pattern}")
    return files


def utf8_copy(path: Path, encoding: str, work_dir: Path) -> Path:
    """Transcode a text file to UTF-8 in a streaming pass; a DataError names the file, line and encoding."""
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / f"{path.stem}.{abs(hash((str(path), encoding)))}.utf8{path.suffix}"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line, offset = 1, 0
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(1 << 22):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                line += chunk[: exc.start].count(b"\n")
                raise DataError(
                    f"{path}: cannot be read as {encoding} (line {line}, byte {bad}: {chunk[exc.start : exc.start + 4]!r}). "
                    "Set the source's `encoding` to the file's real encoding (e.g. gb18030, big5, utf-8)."
                ) from None
            dst.write(text.removeprefix("\ufeff") if offset == 0 else text)
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            dst.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            raise DataError(
                f"{path}: ends inside a multi-byte {encoding} character (truncated file?)"
            ) from None
    return target


def reader_options(source: SourceConfig) -> str:
    """Reader options as SQL named arguments; values are rendered as literals after a type check."""
    allowed = READER_OPTIONS[source.format]
    parts = []
    for key, value in sorted(source.options.items()):
        if key not in allowed:
            raise DataError(
                f"source {source.name!r}: reader option {key!r} is not supported for {source.format} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        if isinstance(value, bool):
            parts.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            parts.append(f"{key} = {value}")
        elif isinstance(value, str):
            parts.append(f"{key} = '{value.replace(chr(39), chr(39) * 2)}'")
        else:
            raise DataError(
                f"source {source.name!r}: reader option {key!r} must be a string, number or boolean"
            )
    return "".join(f", {p}" for p in parts)


def reader_sql(source: SourceConfig, count: int) -> str:
    """A select over `count` files (bound as ? parameters) adding `_file` and `_row`."""
    options = reader_options(source)
    if source.format == "parquet":
        placeholders = ", ".join("?" for _ in range(count))
        return (
            f"select * exclude (filename, file_row_number), filename as _file, file_row_number + 1 as _row "
            f"from read_parquet([{placeholders}], filename = true, file_row_number = true, union_by_name = true{options})"
        )
    if source.format == "csv":
        read = f"read_csv(?, all_varchar = true, header = true{options})"
    else:
        read = f"read_json(?, format = 'newline_delimited'{options})"
    one_file = f"select *, ? as _file, row_number() over () as _row from {read}"
    return "\nunion all by name\n".join([one_file] * count)


def load_raw(
    wh: Warehouse, source: SourceConfig, files: list[Path], run_id: str, work_dir: Path, base_dir: Path
) -> int:
    """Replace raw.<source> with the rows of files plus lineage; return the row count."""
    readable = [
        utf8_copy(f, source.encoding, work_dir)
        if source.format != "parquet" and source.encoding.lower() not in UTF8_NAMES
        else f
        for f in files
    ]
    params: list[object] = []
    if source.format == "parquet":
        params = [str(f) for f in readable]
    else:
        for original, readable_file in zip(files, readable, strict=True):
            params += [str(original), str(readable_file)]  # `? as _file` comes before the reader's `?`
    table = quote_identifier(f"raw.{source.name}")
    prefix = f"{base_dir.resolve()}/"  # lineage paths are relative to the config's folder: portable ids
    try:
        wh.execute(
            f"""
            create or replace table {table} as
            select
                ? as _source,
                case when starts_with(_file, ?) then substr(_file, ?) else _file end as _file,
                _row,
                ?::timestamptz as _loaded_at,
                ? as _run_id,
                * exclude (_file, _row)
            from ({reader_sql(source, len(files))})
            """,
            [source.name, prefix, len(prefix) + 1, datetime.now().astimezone(), run_id, *params],
        )
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.BinderException) as exc:
        raise DataError(
            f"source {source.name!r}: cannot read {', '.join(str(f) for f in files)} as {source.format} "
            f"(encoding {source.encoding}): {str(exc).splitlines()[0]}"
        ) from None
    return wh.count(f"raw.{source.name}")


def _text(column: str) -> str:
    return f"nullif(trim(cast({column} as varchar)), '')"


def typed_sql(field: str, sql_type: str) -> str:
    """SQL that turns the mapped value `m_<field>` into the canonical type, null when it does not parse."""
    text = _text(f'"m_{field}"')
    if field == "status":
        return f"lower({text})"
    if sql_type == "varchar":
        return text
    if sql_type == "timestamptz":
        return (
            f"case when regexp_matches({text}, '{OFFSET_SUFFIX}') then try_cast({text} as timestamptz) "
            f"else timezone($tz, try_cast({text} as timestamp)) end"
        )
    if sql_type == "date":
        return f"coalesce(try_cast({text} as date), cast(try_cast({text} as timestamp) as date))"
    return f"try_cast({text} as {sql_type})"


def reasons_sql(source: SourceConfig) -> list[str]:
    """One SQL expression per check, each null when the row passes it, else the reason."""
    fields = CANONICAL_FIELDS[source.kind]
    reasons = []
    for field in source.columns:
        sql_type = fields[field]
        text = _text(f'"m_{field}"')
        if sql_type != "varchar":
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
        reasons.append(f"case when {_text(f'm_{field}')} is null then 'field {field}: missing' end")
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


def check_sql(source: SourceConfig) -> str:
    """Select over raw.<source>: canonical typed fields, lineage, and `_reason` (null for a good row)."""
    fields = CANONICAL_FIELDS[source.kind]
    # the newline ends a trailing -- comment inside an expression
    mapped = ",\n        ".join(f'({expr}\n) as "m_{field}"' for field, expr in source.columns.items())
    typed = ",\n        ".join(
        f'{typed_sql(field, sql_type) if field in source.columns else f"null::{sql_type}"} as "{field}"'
        for field, sql_type in fields.items()
    )
    reasons = ",\n            ".join(reasons_sql(source))
    id_field = ID_FIELDS[source.kind]
    duplicate = (
        f"""case when _reason is null and "{id_field}" is not null and row_number() over (
                partition by "{id_field}", _reason is null order by _file, _row) > 1
            then 'duplicate {id_field} ''' || "{id_field}" || ''' (first row kept)' end"""
        if id_field in source.columns
        else "null"
    )
    return f"""
    with mapped as (
        select
            _file,
            _row,
            {mapped}
        from {quote_identifier(f"raw.{source.name}")}
    ),
    typed as (
        select
            *,
        {typed}
        from mapped
    ),
    checked as (
        select
            *,
            nullif(concat_ws('; ',
            {reasons}
            ), '') as _reason
        from typed
    ),
    final as (
        select
            *  exclude (_reason),
            coalesce(_reason, {duplicate}) as _reason
        from checked
    )
    select * from final
    """


def stage_source(wh: Warehouse, config: PipelineConfig, source: SourceConfig, run_id: str) -> tuple[int, int]:
    """Check raw.<source>, append good rows to staging.<kind> and bad ones to audit.quarantine."""
    fields = list(CANONICAL_FIELDS[source.kind])
    params = {
        "tz": source.timezone or config.timezone,
        "future_limit": datetime.now().astimezone() + FUTURE_TOLERANCE,
    }
    check_mappings(wh, source)
    try:
        wh.execute(f"create or replace temp table checked as {check_sql(source)}", params)
    except duckdb.Error as exc:
        raise DataError(
            f"source {source.name!r}: a column mapping failed on the data: {str(exc).splitlines()[0]}. "
            "Use try_cast / try_strptime in the mapping so that bad values go to quarantine instead."
        ) from None
    columns = ", ".join(f'"{f}"' for f in fields)
    wh.execute(
        f"insert into staging.{source.kind} select ? as source, _file, _row, {columns} "
        "from checked where _reason is null",
        [source.name],
    )
    wh.execute("delete from audit.quarantine where source = ?", [source.name])
    wh.execute(
        f"""
        insert into audit.quarantine
        select ?, ?, c._file, c._row, c._reason, to_json(r)::varchar
        from checked c
        join {quote_identifier(f"raw.{source.name}")} r on r._file = c._file and r._row = c._row
        where c._reason is not null
        """,
        [run_id, source.name],
    )
    staged = wh.scalar("select count(*) from checked where _reason is null")
    quarantined = wh.scalar("select count(*) from checked where _reason is not null")
    wh.execute("drop table checked")
    return staged, quarantined


def check_mappings(wh: Warehouse, source: SourceConfig) -> None:
    """Bind every mapping expression against raw.<source> (no rows read); a DataError names the failing field."""
    table = quote_identifier(f"raw.{source.name}")
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
    """Create the staging tables (empty) and the audit tables if missing."""
    for kind, fields in CANONICAL_FIELDS.items():
        columns = ", ".join(f'"{f}" {t}' for f, t in fields.items())
        wh.execute(
            f"create or replace table staging.{kind} (source varchar, _file varchar, _row bigint, {columns})"
        )
    wh.execute(
        """
        create table if not exists audit.quarantine (
            run_id varchar, source varchar, file varchar, row_number bigint, reason varchar, record json
        )
        """
    )
    wh.execute(
        """
        create table if not exists audit.extract_log (
            run_id varchar, source varchar, kind varchar, files integer,
            rows_read bigint, rows_staged bigint, rows_quarantined bigint, loaded_at timestamptz
        )
        """
    )


def extract_all(wh: Warehouse, config: PipelineConfig, run_id: str) -> list[SourceLoad]:
    """Load every source into raw and staging in one transaction; return the counts per source."""
    work_dir = config.warehouse_path.parent / f".extract-{run_id}"
    loads = []
    try:
        with wh.transaction():
            create_tables(wh)
            for source in config.sources:
                files = source_files(config, source)
                read = load_raw(wh, source, files, run_id, work_dir, config.base_dir)
                staged, quarantined = stage_source(wh, config, source, run_id)
                if read != staged + quarantined:
                    raise DataError(
                        f"source {source.name!r}: {read} rows read but {staged} staged + {quarantined} quarantined"
                    )
                load = SourceLoad(source.name, source.kind, len(files), read, staged, quarantined)
                wh.execute(
                    "insert into audit.extract_log values (?, ?, ?, ?, ?, ?, ?, now())",
                    [run_id, *asdict(load).values()],
                )
                loads.append(load)
    finally:
        for leftover in work_dir.glob("*"):
            leftover.unlink()
        if work_dir.exists():
            work_dir.rmdir()
    return loads


@task(name="extract", cache_policy=NO_CACHE, **STAGE_TASK_OPTIONS)
def extract(config: PipelineConfig, run_id: str) -> list[dict]:
    """Load every source into raw and staging; return rows read, staged and quarantined per source."""
    logger = get_run_logger()
    with Warehouse.open(config) as wh:
        loads = extract_all(wh, config, run_id)
    for load in loads:
        logger.info(
            "%s: %d files, %d rows read, %d staged, %d quarantined",
            load.source,
            load.files,
            load.rows_read,
            load.rows_staged,
            load.rows_quarantined,
        )
    return [asdict(load) for load in loads]
