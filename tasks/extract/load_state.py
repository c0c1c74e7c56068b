"""What extract has loaded: the staging and audit tables, per-file state, and the log of each source load."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

import duckdb

from tasks.extract.duplicates import REPLACING_RULE, replaces_versions
from tasks.extract.id_checks import ID_CHARACTERS, REF_PLACEHOLDERS
from tasks.extract.kept_files import forget_files, keeps_files, kept_rows
from tasks.extract.mapping_checks import mapping_prefixes, masked_reason
from tasks.extract.tables import create_staging_tables, staging_tables
from tasks.extract.time_checks import TIME_PLACEHOLDERS
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import CANONICAL_FIELDS, DURATION_RULE, FACT_KINDS
from tasks.shared.errors import DataError, is_damaged_file
from tasks.shared.text import counted
from tasks.shared.warehouse import Warehouse, WarehouseLockedError, quote_identifier

if TYPE_CHECKING:
    from tasks.extract import SourceLoad

# The bookkeeping tables of extract (sql/ops/<name>.sql).
AUDIT_TABLES = (
    "quarantine",
    "duplicates",
    "load_state",
    "load_audit",
    "extract_log",
    "raw_files",
    "raw_row_marks",
    "file_moves",
)


def create_tables(wh: Warehouse) -> None:
    """Create the staging and audit tables if missing (they persist across runs: loads are incremental)."""
    create_staging_tables(wh)
    wh.ensure("staging/customer_versions")  # valid_from, valid_to of customer record versions
    for name in AUDIT_TABLES:
        wh.ensure(f"ops/{name}")


def source_fingerprint(config: PipelineConfig, source: SourceConfig) -> str:
    """What staging of a source depends on besides its files: its config and the pipeline's time zone.

    Not its max_bad_row_share, which judges a load and changes nothing staged: raising it, as a failed run's
    error advises, loads the new files without re-staging every row (always hashed as its default, so the
    fingerprints of configs at the default are those of before).
    """
    settings = source.model_dump(mode="json") | {
        "max_bad_row_share": type(source).model_fields["max_bad_row_share"].default
    }
    # hashed only when set, so the fingerprints of configs without them are those of before
    for optional in ("where", "max_amount"):
        if settings[optional] is None:
            del settings[optional]
    # the rules of this version's checks (a change restages the sources they apply to, once)
    settings["id_rule"] = ID_CHARACTERS  # an id with an invisible character is quarantined
    if source.kind != "customers" and "customer_ref" in source.columns:  # a placeholder is no reference
        settings["customer_ref_rule"] = REF_PLACEHOLDERS
    if source.kind == "events" and "duration_s" in source.columns:  # a negative or endless one is quarantined
        settings["duration_rule"] = DURATION_RULE
    if source.kind in FACT_KINDS:  # a fact's time that is a placeholder is quarantined
        settings["time_rule"] = TIME_PLACEHOLDERS
    if replaces_versions(source):  # a database fact source with a watermark: which rows are versions
        settings["replacing_rule"] = REPLACING_RULE
    # how a text date such as 02/01/1990 is read (staging.date_sql): hashed only when it can change a staged
    # value and is not the default, so the fingerprints of configs at the default are those of before
    dates = [field for field in source.columns if CANONICAL_FIELDS[source.kind].get(field) == "date"]
    if dates and config.dedupe.date_order != "reject":
        settings["date_order"] = config.dedupe.date_order
    payload = json.dumps([settings, config.timezone], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def reader_fingerprint(source: SourceConfig) -> str:
    """How a source's files (or database rows) are read into raw: its format, encoding, reader options and
    table, query and watermark. Raw's rows depend on these; when they change, the files are read again, not
    only staged again from raw."""
    settings = source.model_dump(
        mode="json", include={"format", "encoding", "options", "table", "query", "watermark"}
    )
    payload = json.dumps(settings, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# what reader_fingerprint covers, in words, for files (False) and database sources (True)
READER_SETTINGS = {False: "its format, encoding or reader options", True: "its table, query or watermark"}


def reread_message(source: SourceConfig) -> str:
    """The error of a run whose source is read otherwise than its loaded rows were: raw holds what the earlier
    settings read, so re-staging it would keep that; reading it again is the user's call (a database source's
    rows that its table no longer holds, a removed file's rows and customer versions would go)."""
    database = source.format == "postgres"
    return (
        f"source {source.name!r}: how its {'rows are' if database else 'files are'} read changed since they were "
        f"loaded ({READER_SETTINGS[database]}): raw holds what the earlier settings read, and re-staging it "
        f"would keep that. Read the source again with --full-refresh {source.name} (the flow's full_refresh "
        f"parameter; {'rows the database no longer returns' if database else 'the rows of files no longer in its folder'} "
        "are then gone), or put the earlier settings back"
    )


def loaded_files(pipeline: PipelineConfig) -> tuple[dict[str, set[str]], dict[str, set[str]]] | None:
    """The files each source has loaded in the config's warehouse (none yet: empty) and how they were read
    (audit.load_state.reader_fingerprint, where recorded), or None when that cannot be read now (a run is writing
    it, or a lake's catalog is out of reach): a run reads the others.

    Raises duckdb.Error when the warehouse file cannot be opened (damaged, or of another DuckDB) or is damaged."""
    if pipeline.lake is not None or not pipeline.warehouse_path.is_file():  # a folder: _outputs says so
        return None if pipeline.lake is not None else ({}, {})
    try:
        wh = Warehouse.open(pipeline, read_only=True)
    except WarehouseLockedError:  # a run has it open: it is checked when that run opens it
        return None
    except duckdb.ConnectionException:  # this process has it open already, as a writer
        return None
    with wh:
        try:
            if not wh.table_exists("audit.load_state"):
                return {}, {}
            # a warehouse of before the reader's fingerprint has no column for it (a run adds it)
            reader = (
                "reader_fingerprint" if "reader_fingerprint" in wh.columns("audit.load_state") else "null"
            )
            rows = wh.rows(f"select source, file, {reader} from audit.load_state")
        # a damaged block is the file's problem; another error (a table not of ours) the run's to report
        except duckdb.Error as error:
            if is_damaged_file(error):
                raise
            return None
    files: dict[str, set[str]] = {}
    readers: dict[str, set[str]] = {}
    for source, file, read in rows:
        files.setdefault(source, set()).add(file)
        if read is not None:
            readers.setdefault(source, set()).add(read)
    return files, readers


def read_otherwise(
    config: PipelineConfig, readers: dict[str, set[str]], full_refresh: Sequence[str] = ()
) -> list[SourceConfig]:
    """The sources whose loaded rows were read otherwise than they are read now (readers: each source's loaded
    reader fingerprints), but for those a full refresh reads again."""
    return [
        source
        for source in config.sources
        if "all" not in full_refresh
        and source.name not in full_refresh
        and _reads_otherwise(source, readers.get(source.name, set()))
    ]


def _reads_otherwise(source: SourceConfig, readers: set[str]) -> bool:
    """Whether rows loaded with these reader fingerprints were read otherwise than the source reads now."""
    return bool(readers - {reader_fingerprint(source)})


def check_reader(
    wh: Warehouse,
    source: SourceConfig,
    fingerprint: str,
    full_refresh: bool,
    logger: logging.Logger | logging.LoggerAdapter,
) -> str:
    """The source's reader fingerprint, after checking it against its loads (a DataError when they were read
    otherwise, unless a full refresh reads them again). Loads made before the fingerprint was kept count as read
    as now when the source's config (fingerprint) is unchanged; with a changed config it cannot be known, said in
    a warning."""
    reading = reader_fingerprint(source)
    loaded = wh.rows(
        "select distinct reader_fingerprint, config_fingerprint from audit.load_state where source = ?",
        [source.name],
    )
    if any(read is None and staged == fingerprint for read, staged in loaded):
        wh.execute(
            "update audit.load_state set reader_fingerprint = ? "
            "where source = ? and reader_fingerprint is null and config_fingerprint = ?",
            [reading, source.name, fingerprint],
        )
    elif not full_refresh and any(read is None for read, _ in loaded):
        logger.warning(
            "source %s: its config changed, and its loads were made before a load recorded how its %s were read: "
            "if the change is to %s, run with --full-refresh %s to read them again (re-staged from raw here)",
            source.name,
            "rows" if source.format == "postgres" else "files",
            READER_SETTINGS[source.format == "postgres"],
            source.name,
        )
    if not full_refresh and _reads_otherwise(source, {read for read, _ in loaded if read is not None}):
        raise DataError(reread_message(source))
    return reading


def forget_rows(wh: Warehouse, source: SourceConfig, files: list[str] | None = None) -> None:
    """Delete a source's rows (of some files, or all) from raw, staging, quarantine, duplicates and load state
    (and the files' moves: a later file under their new names is a new file)."""
    if files is None:
        where, params = "source = ?", [source.name]
    else:
        where, params = "source = ? and file in (select unnest(?::varchar[]))", [source.name, files]
    for table in ("audit.quarantine", "audit.duplicates", "audit.load_state", "audit.file_moves"):
        wh.execute(f"delete from {table} where {where}", params)
    for table in staging_tables(source.kind):  # staging.<kind>, and its unattributed rows' table
        wh.execute(
            f"delete from {quote_identifier(table)} where {where.replace('file in', '_file in')}", params
        )
    raw = f"raw.{source.name}"
    if keeps_files(wh, source):
        forget_files(wh, source, files)
    elif wh.table_exists(raw):
        if files is None:
            wh.execute(f"drop table {quote_identifier(raw)}")
        else:
            wh.execute(
                f"delete from {quote_identifier(raw)} where _file in (select unnest(?::varchar[]))", [files]
            )


def raw_rows(wh: Warehouse, source: SourceConfig, files: list[str]) -> tuple[dict[str, int], int]:
    """The raw rows of some files of a source, per file, and of the whole source."""
    raw = f"raw.{source.name}"
    if keeps_files(wh, source):
        return kept_rows(wh, source, files)
    if not wh.table_exists(raw):
        return {}, 0
    table = quote_identifier(raw)
    rows = wh.rows(
        f"select _file, count(*) from {table} where _file in (select unnest(?::varchar[])) group by _file",
        [files],
    )
    return dict(rows), wh.scalar(f"select count(*) from {table}")


def say_forgotten(
    source: SourceConfig,
    removed: list[str],
    before: dict[str, int],
    total: int,
    logger: logging.Logger | logging.LoggerAdapter,
) -> None:
    """Warn of the rows a source loses with its files that are gone (a file's rows live only while it is there)."""
    for name in removed:
        rows = before.get(name, 0)
        share = 100 * rows / total if total else 0.0
        logger.warning(
            "source %s: file %s is gone: raw and staging lose its %s (%.1f%% of the source's). Files are the "
            "source's history: keep them in place (a drop folder that archives old files loses them from the "
            "customers' history)",
            source.name,
            name,
            counted(rows, "row"),
            share,
        )


def say_shrunk(
    source: SourceConfig,
    replaced: list[str],
    before: dict[str, int],
    read: dict[str, int],
    logger: logging.Logger | logging.LoggerAdapter,
) -> None:
    """Warn of each changed file that now holds fewer rows than when it was loaded before."""
    for name in replaced:
        old, new = before.get(name, 0), read.get(name, 0)
        if new < old:
            logger.warning(
                "source %s: file %s changed and holds %s, %s fewer than the %s loaded before (a file cut short, "
                "or rows taken out of it): the missing rows leave raw and staging",
                source.name,
                name,
                counted(new, "row"),
                f"{old - new:,}",
                f"{old:,}",
            )


def check_bad_share(wh: Warehouse, source: SourceConfig, load: SourceLoad, run_id: str) -> None:
    """A DataError when a load quarantined more than the source's max_bad_row_share of the rows it checked (the
    rows its `where` left out are not checked)."""
    checked = load.rows_read - load.rows_filtered
    if not checked or load.rows_quarantined / checked <= source.max_bad_row_share:
        return
    reasons = wh.select("staging/frequent_quarantine_reasons", {"source": source.name, "run_id": run_id})
    prefixes = mapping_prefixes(source)
    # most rows failing a mapping is more often the mapping than bad data: an expression to correct, not a share
    mapping = "Most rows failing points at the mapping more than at the data: check the expressions named. "
    mapped = load.rows_quarantined > checked / 2 and any(" fails" in row["example"] for row in reasons)
    raise DataError(
        f"source {source.name!r}: {load.rows_quarantined} of {checked} rows "
        f"({load.rows_quarantined / checked:.1%}) failed checks, more than max_bad_row_share "
        f"{source.max_bad_row_share:.1%}; nothing was loaded or published. Most frequent: "
        + "; ".join(
            f"({number}) {row['n']} x {masked_reason(row['example'], prefixes)} "
            f"(first: {row['file']} row {row['row_number']})"
            for number, row in enumerate(reasons, 1)
        )
        + f". {mapping if mapped else ''}To load the good rows and keep the bad "
        f"ones in audit.quarantine with their values, raise sources.{source.name}.max_bad_row_share"
    )


def record_load(wh: Warehouse, run_id: str, load: SourceLoad) -> None:
    """Append a source load to audit.extract_log."""
    wh.execute(
        "insert into audit.extract_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
        [run_id, *asdict(load).values()],
    )


def record_erased(
    wh: Warehouse, run_id: str, load: SourceLoad, erased: dict[tuple[str, str], dict[str, int]]
) -> SourceLoad:
    """The load with the rows of erased people it read counted as erased, not where it had put them (staged,
    quarantined, a duplicate), in audit.load_audit per file and audit.extract_log too; erased: drop_erased's."""
    read = {
        file
        for (file,) in wh.rows(
            "select file from audit.load_audit where run_id = ? and source = ?", [run_id, load.source]
        )
    }
    files = {
        file: counts for (source, file), counts in erased.items() if source == load.source and file in read
    }
    if unread := sorted(file for source, file in erased if source == load.source and file not in read):
        # each load and each erasure leaves no erased person's row behind: these were left by something else
        logging.getLogger(__name__).warning(
            "source %s: rows of erased people dropped from %s, which this run did not read: counted in no load",
            load.source,
            ", ".join(unread),
        )
    if not files:
        return load
    for file, counts in files.items():
        wh.execute(
            "update audit.load_audit set rows_staged = rows_staged - $staged, "
            "rows_unattributed = rows_unattributed - $unattributed, rows_quarantined = rows_quarantined - $quarantined, "
            "duplicates_dropped = duplicates_dropped - $duplicates, rows_filtered = rows_filtered - $filtered, "
            "rows_erased = $staged + $quarantined + $duplicates + $filtered "
            "where run_id = $run_id and source = $source and file = $file",
            {**counts, "run_id": run_id, "source": load.source, "file": file},
        )
    total = {
        outcome: sum(counts[outcome] for counts in files.values()) for outcome in next(iter(files.values()))
    }
    load = replace(
        load,
        rows_staged=load.rows_staged - total["staged"],
        rows_unattributed=load.rows_unattributed - total["unattributed"],
        rows_quarantined=load.rows_quarantined - total["quarantined"],
        duplicates_dropped=load.duplicates_dropped - total["duplicates"],
        rows_filtered=load.rows_filtered - total["filtered"],
        rows_erased=total["staged"] + total["quarantined"] + total["duplicates"] + total["filtered"],
    )
    wh.execute(
        "update audit.extract_log set rows_staged = ?, rows_unattributed = ?, rows_quarantined = ?, "
        "duplicates_dropped = ?, rows_filtered = ?, rows_erased = ? where run_id = ? and source = ?",
        [
            load.rows_staged,
            load.rows_unattributed,
            load.rows_quarantined,
            load.duplicates_dropped,
            load.rows_filtered,
            load.rows_erased,
            run_id,
            load.source,
        ],
    )
    return load
