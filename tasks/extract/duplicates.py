"""Rows that repeat an id: dropped as duplicates, quarantined as conflicts, or kept as versions of a record.

Customer records are versions: every version of a record stays in staging.customers, valid from its
version time until the next version's (valid_from, valid_to), so that a run as of an earlier day reads
the version valid then (sql/core/customer_records.sql). Facts are facts: the first row of an id wins,
and a database source with a watermark replaces a fact's row by the newer one it reads.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tasks.extract.kept_files import keeps_files, mark_checked
from tasks.extract.staging import fingerprint_sql
from tasks.shared.config import SourceConfig
from tasks.shared.contracts import ID_FIELDS
from tasks.shared.warehouse import Warehouse, quote_identifier


def keeps_versions(source: SourceConfig) -> bool:
    """Whether a source's rows are versions of records, all kept (customers: a CRM exports its members again)."""
    return source.kind == "customers"


# What a replacing source's versions are (a change restages such sources once): 2, its guest rows (unattributed)
# are versions too, a copy dropped and a newer row replacing the staged one wherever it is staged.
REPLACING_RULE = "2"


def replaces_versions(source: SourceConfig) -> bool:
    """Whether a later row with a known id replaces the staged one (a database fact source with a watermark).

    Rows past the watermark are newer than the staged ones; other transactions, events and feedback are
    facts: a later row with a known id is a duplicate or a conflict.
    """
    return source.watermark is not None and not keeps_versions(source)


def version_time_sql(source: SourceConfig) -> str:
    """SQL for when a version was made, over a checked row (`checked`) and its raw row's load time (`loads`).

    A customers source that maps updated_at: the row's updated_at (else its signup_ts, else when it was
    loaded); without updated_at, and for facts: when the row was loaded (raw `_loaded_at`).
    """
    if keeps_versions(source) and "updated_at" in source.columns:
        return "coalesce(checked.updated_at, checked.signup_ts, loads._loaded_at)"
    return "loads._loaded_at"


def build_version_times(
    wh: Warehouse, source: SourceConfig, params: Mapping[str, Any], raw_rows: str | None = None
) -> None:
    """Build temp table _version_times: the version time of each good row of _checked (sql/staging/version_times.sql).

    raw_rows: the relation of the raw rows checked (raw.<source> unless given)."""
    wh.build(
        "_version_times",
        "staging/version_times",
        params,
        temp=True,
        identifiers={"raw_rows": raw_rows or f"raw.{source.name}"},
        fragments={"version_time": version_time_sql(source)},
    )


# A file's place in arrival order: its name and when it was first loaded (None: in this run).
FileOrder = tuple[str, datetime | None]


def mark_duplicates(wh: Warehouse, source: SourceConfig, file_order: Sequence[FileOrder] = ()) -> None:
    """Set `_duplicate_of` of _checked rows that repeat an id; quarantine same-id rows whose values differ.

    Facts: the first row of an id wins, one already staged (from an earlier file or run), else the first
    by arrival (file_order: files first loaded in an earlier run first, by that time; then by name: a file
    keeps its first load time when rewritten, renamed or read again by a full refresh), so that a full
    refresh or a restage keeps the row the daily runs kept; a later row with the same values is a
    duplicate (dropped, recorded), with other values a conflict (quarantined). Versions (keeps_versions;
    _version_times built): a row that repeats the version before it (staged or in the batch, in version
    order) is a duplicate of that version; a row with the same explicit updated_at as another version of
    its record but other values is a conflict (which one is current would be a guess); any other row is
    a version of its own. Replacing sources: the newest row of an id in the batch wins, the older ones are
    dropped, and the staged row is replaced (tasks.extract.stage_rows).
    """
    id_field = ID_FIELDS[source.kind]
    if id_field not in source.columns:
        return
    fragments = {"fingerprint": fingerprint_sql(source.kind)}
    if keeps_versions(source):
        model = "staging/ranked_versions"
    elif replaces_versions(source):
        model = "staging/ranked_replacements"
    else:
        model = "staging/ranked_duplicates"
    identifiers = {"kind": source.kind, "id_field": id_field}
    files, arrived = (list(column) for column in zip(*file_order, strict=True)) if file_order else ([], [])
    wh.build("_file_order", "staging/file_order", {"files": files, "arrived": arrived}, temp=True)
    wh.build(
        "_ranked", model, {"source": source.name}, temp=True, identifiers=identifiers, fragments=fragments
    )
    wh.execute("drop table _file_order")
    wh.run("staging/mark_duplicates")
    tie = " at the same updated_at" if keeps_versions(source) else ""  # a version's conflict: a tie of times
    wh.run("staging/mark_conflicts", identifiers={"id_field": id_field}, fragments={"tie": tie})
    wh.execute("drop table _ranked")


def refresh_validity(wh: Warehouse, source: SourceConfig, every_record: bool) -> None:
    """Set valid_to of the source's customer versions: the next version's valid_from (null: the current one).

    For the records of _version_times (this batch), or every record of the source (every_record: after
    versions were removed or the source re-staged).
    """
    ids = "true" if every_record else "source_id in (select _id from _version_times)"
    wh.run("staging/version_validity", {"source": source.name}, fragments={"ids": ids})


def restore_orphans(wh: Warehouse, source: SourceConfig, files: list[str], run_id: str) -> int:
    """Check again, in this run, the rows dropped as copies of, or quarantined as conflicts with, removed rows.

    Called after the rows of files (removed or rewritten) are forgotten: another file that still holds
    such a row has it checked again (its raw row gets this run's `_run_id`), so it is staged, dropped or
    quarantined as if the removed rows had never been loaded. Returns the rows restored.
    """
    if not files or not wh.table_exists(f"raw.{source.name}"):
        return 0
    restored = wh.build(
        "_orphans", "staging/orphaned_rows", {"source": source.name, "files": files}, temp=True
    )
    if restored:
        keys = "(select file, row_number from _orphans)"
        for table in ("audit.duplicates", "audit.quarantine"):
            wh.execute(
                f"delete from {table} where source = ? and (file, row_number) in {keys}", [source.name]
            )
        if keeps_files(wh, source):
            mark_checked(wh, source.name, "select file, row_number from _orphans", run_id)
        else:
            raw = quote_identifier(f"raw.{source.name}")
            wh.execute(f"update {raw} set _run_id = ? where (_file, _row) in {keys}", [run_id])
    wh.execute("drop table _orphans")
    return restored
