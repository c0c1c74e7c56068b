"""Extract stage: sources into raw (with lineage), typed rows into staging, bad rows into quarantine.

Incremental: a file already loaded with the same content (same size and mtime, else the same
SHA-256) is not read again; a new or changed file is (a changed file's old rows are replaced); a
database source with a watermark loads only rows past it. When a file's rows are removed (the file
deleted or changed), the rows of other files that were dropped as their copies or quarantined as
conflicts with them are checked again, as a fresh load of the remaining files would. `full_refresh`
reloads a source from scratch, and a change of a source's config re-stages its raw rows without
reading files again; a change of how its files are read (format, encoding, reader options; a database
source's table, query or watermark) stops the run until a full refresh of the source reads them again.

Raw keeps each source's own columns as read (CSV as text, so leading zeros survive; a column whose
type differs between files in a type holding both exactly) plus lineage: `_source`, `_file` (path
relative to the config file's folder, or `postgres:<source>@<run>` for a database batch), `_row`
(1-based data row), `_loaded_at`, `_run_id` (the run that last checked the row); a Parquet source's raw is a
view with those columns over its files where they are (tasks.extract.kept_files). Staging holds one
table per source kind with the canonical fields, typed; staging.customers keeps every version of a
customer record, valid from `valid_from` to `valid_to` (tasks.extract.duplicates). A row that fails a
check goes to `audit.quarantine` with field, reason and the raw row as JSON; another copy of a row
(same id, same values; for customer records, the same values as the version before it) is dropped and
recorded in `audit.duplicates`; a fact with a known id and other values is quarantined. Per file,
`audit.load_audit` records rows read = staged + quarantined + duplicates dropped + erased, and of the
staged rows those unattributed: a fact row without any customer reference, staged apart in
`staging.unattributed_<kind>` (not a bad row). Erased: rows of people erased earlier, read again and
dropped after the load (tasks.extract.erased).
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

from tasks.extract.amount_checks import say_outlying_amounts
from tasks.extract.duplicates import (
    FileOrder,
    build_version_times,
    keeps_versions,
    mark_duplicates,
    refresh_validity,
    replaces_versions,
    restore_orphans,
)
from tasks.extract.erased import drop_erased
from tasks.extract.file_scan import scan_files
from tasks.extract.json_paths import say_non_objects
from tasks.extract.kept_files import RUN_VIEW, keeps_files, run_rows, settle_raw
from tasks.extract.load_state import (
    check_bad_share,
    check_reader,
    create_tables,
    forget_rows,
    raw_rows,
    record_erased,
    record_load,
    say_forgotten,
    say_shrunk,
    source_fingerprint,
)
from tasks.extract.mapping_checks import check_mappings
from tasks.extract.orphans import forget_orphan, loaded_sources, orphan_message, orphans
from tasks.extract.overlap import read_twice
from tasks.extract.postgres import batch_watermark, read_postgres
from tasks.extract.raw import append_raw, emptied_files, read_batch, say_emptied
from tasks.extract.staging import build_checked, stage_unattributed, value_types
from tasks.extract.time_checks import future_limit
from tasks.extract.where import filtered_counts, forget_left_out
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import ID_FIELDS
from tasks.shared.errors import DataError
from tasks.shared.text import counted
from tasks.shared.warehouse import Warehouse

__all__ = ["SourceLoad", "create_tables", "extract", "extract_all", "extract_source", "stage_rows"]


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
    status: str  # loaded | unchanged | removed (nothing new read; files gone, their rows removed) | restaged
    rows_unattributed: int = 0  # of rows_staged: no customer reference, in staging.unattributed_<kind>
    # rows of people erased earlier, read again and dropped (not staged, quarantined or copies)
    rows_erased: int = 0
    rows_filtered: int = 0  # of rows_read: left out by the source's `where` (in raw, not staged)


def stage_rows(
    wh: Warehouse,
    config: PipelineConfig,
    source: SourceConfig,
    run_id: str,
    all_rows: bool = False,
    every_record: bool = False,
    file_order: Sequence[FileOrder] = (),
) -> dict[str, tuple[int, int, int, int, int]]:
    """Check the raw rows this run read (all raw rows of the source when all_rows) and stage them.

    every_record: versions of a customers source were removed, so the validity of every record's
    versions is computed again (not only of the records this run read). file_order: the files' arrival
    (tasks.extract.duplicates.mark_duplicates; without it, rows of one id are ranked by file name).
    Returns (staged, quarantined, dropped, unattributed, filtered) per file: unattributed of staged; filtered
    the rows the source's `where` left out (in raw, not checked).
    """
    # the raw rows to check are those this run appended (the files it read): the ones with its run id
    batch = {"source": source.name, "run_id": run_id, "all_rows": all_rows}
    check_mappings(wh, source)
    params = {
        **batch,
        "tz": source.timezone or config.timezone,
        "future_limit": future_limit(),
    }
    raw_rows = run_rows(wh, source, run_id, all_rows)  # a Parquet source: only the files this run read
    types = value_types(wh, source)
    try:
        build_checked(wh, source, params, raw_rows, config.dedupe.date_order, types)
    except duckdb.Error as exc:
        raise DataError(
            f"source {source.name!r}: a column mapping failed on the data: {str(exc).splitlines()[0]}. "
            "Use try_cast / try_strptime in the mapping so that bad values go to quarantine instead."
        ) from None
    versions = keeps_versions(source) or replaces_versions(source)
    if versions:
        build_version_times(wh, source, batch, raw_rows)
    mark_duplicates(wh, source, file_order)
    rows = wh.select("staging/checked_counts")
    # after the copies are marked: a guest purchase repeated is dropped as a copy too
    stage_unattributed(wh, source, params, sum(row["unattributed"] for row in rows))
    filtered = filtered_counts(wh, source, batch, raw_rows, types)
    counts = {
        row["_file"]: (
            row["staged"],
            row["quarantined"],
            row["dropped"],
            row["unattributed"],
            filtered.pop(row["_file"], 0),
        )
        for row in rows
    }
    counts.update({file: (0, 0, 0, 0, count) for file, count in filtered.items()})
    # an insert of no rows is not run: in a DuckDB 2.0 transaction it hides the rows a later large
    # insert into the same table appends (see tasks.extract.raw)
    staged = sum(row["staged"] - row.get("unattributed", 0) for row in rows)
    if source.where is not None and source.watermark is not None:
        forget_left_out(wh, source, batch, raw_rows, types)
    if replaces_versions(source):
        # a row with a known id is a newer version (a database row past the watermark): it replaces the staged one
        for model in ("staging/replaced_versions", "staging/replaced_unattributed"):
            wh.run(model, batch, identifiers={"kind": source.kind, "id_field": ID_FIELDS[source.kind]})
    if keeps_versions(source):
        # every version of a customer record is kept, valid from its version time to the next one's
        if staged:
            wh.insert("staging.customers", "staging/staged_versions", batch)
        refresh_validity(wh, source, every_record=all_rows or every_record)
    elif staged:
        wh.insert(f"staging.{source.kind}", "staging/staged_rows", batch)
    if sum(row["quarantined"] for row in rows):
        wh.insert("audit.quarantine", "staging/quarantined_rows", batch, identifiers={"raw_rows": raw_rows})
    if sum(row["dropped"] for row in rows):
        wh.insert("audit.duplicates", "staging/duplicate_rows", batch)
    if versions:
        wh.execute("drop table _version_times")
    wh.execute("drop table _checked")
    wh.execute(f"drop view if exists {RUN_VIEW}")
    return counts


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
    settle_raw(wh, source, logger)  # read_in_place turned off: raw becomes a table first
    fingerprint = source_fingerprint(config, source)
    reading = check_reader(wh, source, fingerprint, full_refresh, logger)
    # when each file was first loaded, by name and by content: a full refresh reads the files again as they
    # first arrived (tasks.extract.duplicates.mark_duplicates), renamed ones too
    arrived: dict[str, datetime] = {}
    arrived_content: dict[str, datetime] = {}
    if full_refresh:
        for name, digest, loaded_at in wh.rows(
            "select file, file_hash, loaded_at from audit.load_state where source = ?", [source.name]
        ):
            arrived[name] = loaded_at
            arrived_content[digest] = min(loaded_at, arrived_content.get(digest, loaded_at))
        forget_rows(wh, source)
    state = {
        row["file"]: row for row in wh.dicts("select * from audit.load_state where source = ?", [source.name])
    }
    restage = any(row["config_fingerprint"] != fingerprint for row in state.values())
    new_state: dict[str, tuple] = {}
    restored, revalidate = 0, False
    removed: list[str] = []
    if source.format == "postgres":
        since = max((row["watermark"] for row in state.values() if row["watermark"]), default=None)
        batch = f"postgres:{source.name}@{run_id}"
        read_postgres(wh, source, "_one_file", since if source.watermark else None, batch)
        rows = wh.count("_one_file")
        if source.watermark is None:
            say_snapshot(wh, source, rows, logger)
        if source.watermark is None and rows:
            forget_rows(wh, source)  # without a watermark every read is a full snapshot
            restage = False
        read = {batch: rows} if rows else {}
        if rows:
            append_raw(wh, source, "select * from _one_file", {}, run_id, logger)
            new_state[batch] = (None, (None, None, None), kept_watermark(wh, source, since, logger))
        wh.execute("drop table _one_file")
        files_total, hashes = 1, {}
    else:
        files_total, changed, removed, hashes = scan_files(wh, config, source, state, run_id, logger)
        replaced = [f.name for f in changed if f.name in state]
        before: dict[str, int] = {}
        if removed or replaced:
            before, total = raw_rows(wh, source, removed + replaced)
            # a file rewritten with its header alone is taken for a failed export, as a database's empty answer (a
            # Parquet source read in place has no copy to keep: raw is its files)
            held = [] if keeps_files(wh, source) else [f for f in changed if before.get(f.name)]
            emptied = emptied_files(wh, config, source, held, run_id, logger) if held else []
            if emptied:
                say_emptied(source, emptied, before, logger)
                changed = [f for f in changed if f.name not in emptied]
                replaced = [name for name in replaced if name not in emptied]
        if removed or replaced:
            logger.info("source %s: %d files changed, %d removed", source.name, len(replaced), len(removed))
            say_forgotten(source, removed, before, total, logger)
            forget_rows(wh, source, removed + replaced)
            # rows other files still hold, dropped or quarantined for repeating a removed row: checked again
            restored = restore_orphans(wh, source, removed + replaced, run_id)
            if restored:
                logger.info("source %s: %d rows of other files checked again", source.name, restored)
            revalidate = keeps_versions(source)  # versions were removed: every record's valid_to again
        read = read_batch(wh, config, source, changed, run_id, logger) if changed else {}
        say_shrunk(source, replaced, before, read, logger)
        new_state = {f.name: (hashes[f.name], (f.size, f.mtime_ns, f.ctime_ns), None) for f in changed}
    if revalidate and not restored and not read and not restage:
        refresh_validity(wh, source, every_record=True)
    if not read and not restage and not restored:
        logger.info("source %s: nothing new (%s already loaded)", source.name, counted(files_total, "file"))
        load = SourceLoad(
            source.name, source.kind, files_total, 0, 0, 0, 0, 0, "removed" if removed else "unchanged"
        )
        record_load(wh, run_id, load)
        return load
    if restage:
        logger.info(
            "source %s: its config or this version's staging rules changed; re-staging all its raw rows",
            source.name,
        )
        for table in ("audit.quarantine", "audit.duplicates"):
            wh.execute(f"delete from {table} where source = ?", [source.name])
        wh.execute(f"delete from staging.{source.kind} where source = ?", [source.name])
        wh.execute(
            "update audit.load_state set config_fingerprint = ?, reader_fingerprint = ? where source = ?",
            [fingerprint, reading, source.name],
        )
    # each file's first load: a file read again (rewritten, or by a full refresh) keeps it; None: a new one,
    # loaded now
    first_loaded = {name: row["loaded_at"] for name, row in state.items()}
    for name, (digest, _, _) in new_state.items():
        first_loaded[name] = arrived.get(name) or arrived_content.get(digest) or first_loaded.get(name)
    counts = stage_rows(
        wh,
        config,
        source,
        run_id,
        all_rows=restage,
        every_record=revalidate,
        file_order=list(first_loaded.items()),
    )
    for name, (digest, (size, mtime_ns, ctime_ns), watermark) in new_state.items():
        wh.execute(
            "insert into audit.load_state (source, file, file_hash, size, mtime_ns, ctime_ns, watermark, "
            "config_fingerprint, loaded_at, run_id, reader_fingerprint) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, now()), ?, ?)",
            [
                source.name,
                name,
                digest,
                size,
                mtime_ns,
                ctime_ns,
                watermark,
                fingerprint,
                first_loaded[name],
                run_id,
                reading,
            ],
        )
    seconds = time.monotonic() - started
    for name, rows in read.items():
        staged, quarantined, dropped, unattributed, filtered = counts.get(name, (0, 0, 0, 0, 0))
        if rows != staged + quarantined + dropped + filtered:
            raise DataError(
                f"source {source.name!r}: {name}: {rows} rows read but {staged} staged + {quarantined} quarantined "
                f"+ {dropped} duplicates dropped + {filtered} filtered out"
            )
        wh.execute(
            "insert into audit.load_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, 0, ?)",
            [
                run_id,
                source.name,
                name,
                hashes.get(name),
                rows,
                staged,
                quarantined,
                dropped,
                seconds,
                unattributed,
                filtered,
            ],
        )
    staged, quarantined, dropped, unattributed, filtered = (
        sum(c[i] for c in counts.values()) for i in range(5)
    )
    load = SourceLoad(
        source=source.name,
        kind=source.kind,
        files=files_total,
        files_loaded=len(read),
        rows_read=staged + quarantined + dropped + filtered,
        rows_staged=staged,
        rows_quarantined=quarantined,
        duplicates_dropped=dropped,
        status="restaged" if restage else "loaded",
        rows_unattributed=unattributed,
        rows_filtered=filtered,
    )
    check_bad_share(wh, source, load, run_id)
    say_outlying_amounts(wh, source, list(counts), logger)  # the files checked this run
    say_non_objects(wh, source, list(counts), logger)
    if load.rows_filtered and load.rows_filtered == load.rows_read:
        logger.warning(
            "source %s: its where (%s) left out every row read (%d): nothing of them is staged; check the condition "
            "against the files' values",
            source.name,
            source.where,
            load.rows_filtered,
        )
    record_load(wh, run_id, load)
    return load


def kept_watermark(
    wh: Warehouse, source: SourceConfig, since: str | None, logger: logging.Logger | logging.LoggerAdapter
) -> str | None:
    """The watermark a database batch (_one_file) leaves for the next run: its highest value within the load's
    future limit (else the one it was read past), with a warning naming the values left out."""
    limit = future_limit()
    watermark, later = batch_watermark(wh, source, "_one_file", limit)
    if later:
        logger.warning(
            "source %s: %s past %s (%s): the watermark %s stays at %s, so that changes dated before them "
            "are still read; staging quarantines such rows, and the next run reads them again",
            source.name,
            "rows have a watermark" if len(later) > 1 else "a row has a watermark",
            f"{limit:%Y-%m-%d %H:%M}",
            ", ".join(later),
            source.watermark,
            watermark or since,
        )
    return watermark or since


def say_snapshot(
    wh: Warehouse, source: SourceConfig, rows: int, logger: logging.Logger | logging.LoggerAdapter
) -> None:
    """Warn when a database source read whole (no watermark) returns fewer rows than its last read (raw holds
    that read): they leave raw and staging; no rows at all is taken as a failed export, and the last read kept."""
    held = wh.count(f"raw.{source.name}") if wh.table_exists(f"raw.{source.name}") else 0
    if rows >= held:
        return
    if rows:
        logger.warning(
            "source %s: its database returned %s, %s fewer than its last read (rows deleted there): the missing "
            "rows leave raw and staging",
            source.name,
            counted(rows, "row"),
            f"{held - rows:,}",
        )
        return
    logger.warning(
        "source %s: its database returned no rows: its last read (%s) is kept, an empty answer taken for a "
        "failed export (to empty the source, run with --full-refresh %s)",
        source.name,
        counted(held, "row"),
        source.name,
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
    with wh.transaction():
        create_tables(wh)
        loaded = loaded_sources(wh)
        unnamed = orphans(config, loaded)
        unknown = refresh - {s.name for s in config.sources} - {"all"} - set(unnamed)
        if unknown:
            raise DataError(
                f"--full-refresh of unknown sources {sorted(unknown)}; sources: {[s.name for s in config.sources]}"
            )
        if twice := read_twice(config):  # two sources of one kind over the same files
            raise DataError("; ".join(message for _, message in twice))
        for name in unnamed:  # a source removed from the config, or renamed (tasks/extract/orphans.py)
            if "all" not in refresh and name not in refresh:
                raise DataError(orphan_message(name, loaded[name]))
            forget_orphan(wh, name, logger)
        loads = [
            extract_source(wh, config, source, run_id, "all" in refresh or source.name in refresh, logger)
            for source in config.sources
        ]
        erased = drop_erased(wh, config)  # erased people stay erased when their source files are read again
        return [record_erased(wh, run_id, load, erased) for load in loads]


def __getattr__(name: str) -> Any:
    """The stage's Prefect task `extract`, made on first use.

    Importing the stage's functions (extract_all, the preflight check) then does not import Prefect,
    which takes seconds and is not needed to check a config.
    """
    if name != "extract":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = _extract_task()
    return globals()[name]


def _extract_task() -> Any:
    """The Prefect task of the extract stage."""
    from prefect import get_run_logger, task

    from tasks.shared.artifacts import record_counts
    from tasks.shared.errors import STAGE_TASK_OPTIONS

    @task(name="extract", **STAGE_TASK_OPTIONS)
    def extract(config: PipelineConfig, run_id: str, full_refresh: list[str] | None = None) -> list[dict]:
        """Load what is new in every source into raw and staging; return counts per source."""
        logger = get_run_logger()
        with Warehouse.open(config) as wh:
            loads = extract_all(wh, config, run_id, full_refresh, logger)
        counts = [asdict(load) for load in loads]
        record_counts(
            "extract",
            counts,
            "Per source: files read, rows read, staged (rows_unattributed of them without a customer reference), "
            "quarantined, dropped as duplicates, dropped as rows of people erased earlier (rows_erased) and left "
            "out by the source's where (rows_filtered)",
        )
        for load in loads:
            logger.info(
                "%s: %s; %d of %d files read, %d rows read, %d staged (%d unattributed), %d quarantined, "
                "%d duplicates dropped, %d of erased people dropped, %d filtered out",
                load.source,
                load.status,
                load.files_loaded,
                load.files,
                load.rows_read,
                load.rows_staged,
                load.rows_unattributed,
                load.rows_quarantined,
                load.duplicates_dropped,
                load.rows_erased,
                load.rows_filtered,
            )
        return counts

    return extract
