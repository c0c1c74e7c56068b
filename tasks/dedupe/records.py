"""Customer records and the keys they were seen with: built whole, or brought up to date record by record.

core.customer_records holds each staged customer record's version valid at the cutoff with its normalized
keys (sql/core/customer_records.sql); core.record_observations which keys each record, customer or fact,
was seen with before the cutoff (sql/core/record_observations.sql). Both hold every record (1.3M rows and
3.5M at 1M customers), and a day's files touch a few thousand. A run whose last run left them built with
these settings, where only new files arrived since (core.customer_record_files, the watermark, compared
by sql/ops/file_changes.sql), recomputes only the records that can differ (sql/core/records_dirty.sql):

- the records of the new files' versions (a new record, or a new version, which ends the last one);
- the records with a version beginning or ending between the last run's cutoff and this one's;
- the records and facts first seen between the two cutoffs (they enter or leave the observations);
- the records whose fact observation groups this run folded in (tasks/dedupe/observations.py);
- the records whose birth date is read otherwise now (the last plausible date is the as_of day).

Every other record has the same staged versions, lookups and facts before both cutoffs, so the same rows.
The records' last rows are kept as core.customer_records_before and core.record_observations_before, and
_changed_records compares them with the new rows (sql/core/changed_records.sql): what the record graph
and the golden record read (tasks/dedupe/touched.py, golden.py). A changed or removed file (re-read,
re-staged, erased), other settings (the models, the staged columns, the lookups' versions), tables with
other row counts than the last run left (an erasure), or rebuilt fact observations build both tables
whole, as a full refresh does; tests/unit/dedupe/test_records.py compares both ways.
"""

import hashlib
import json
from datetime import datetime

from tasks.dedupe.golden import comparable_inputs, keep_previous
from tasks.dedupe.lookups import LOOKUP_VERSION, contact_version
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse, quote_identifier, sql_path

# Bump when what the two tables hold changes in a way their models' text does not show: they are built whole.
RECORDS_VERSION = 1
RECORDS = "core.customer_records"
OBSERVATIONS = "core.record_observations"
STATE_TABLES = (RECORDS, OBSERVATIONS, "core.customer_record_files", "core.record_state")
# The watermark and the files as staged now, compared by sql/ops/file_changes.sql.
FILES = {"held": "core.customer_record_files", "current": "_customer_record_files_now"}
# The models' inputs when they build every record.
WHOLE = {"customers": "staging.customers"}
WHOLE_OBSERVATIONS = {"customer_records": RECORDS, "fact_observations": "core.fact_observations"}
WHOLE_CHANGES = {
    "records": RECORDS,
    "records_before": f"{RECORDS}_before",
    "observations": OBSERVATIONS,
    "observations_before": f"{OBSERVATIONS}_before",
}
# The models' inputs when they bring the dirty records up to date (temp tables of the run).
DIRTY = {"customers": "_dirty_versions"}
DIRTY_OBSERVATIONS = {"customer_records": "_dirty_records_now", "fact_observations": "_dirty_facts"}
DIRTY_CHANGES = {
    "records": "_dirty_records_now",
    "records_before": f"{RECORDS}_before",
    "observations": "_dirty_observations_now",
    "observations_before": f"{OBSERVATIONS}_before",
}
# Record columns of the tables scoped to the dirty records (sql/core/records_scoped.sql).
RECORD_COLUMNS = {
    "staging.customers": ("source", "source_id"),
    RECORDS: ("source", "source_id"),
    OBSERVATIONS: ("record_source", "record_id"),
    "core.fact_observations": ("record_source", "record_id"),
}
TEMP_TABLES = (
    "_customer_record_files_now",
    "_customer_record_file_changes",
    "_folded_records",
    "_dirty_records",
    "_dirty_versions",
    "_dirty_facts",
    "_dirty_records_now",
    "_dirty_observations_now",
)


def settings_fingerprint(wh: Warehouse, config: PipelineConfig) -> str:
    """A fingerprint of what the two tables are computed with besides the staged rows: RECORDS_VERSION, the
    models' text, the staged customer columns, the lookups' versions and the birth date settings."""
    models = [
        sql_path(model).read_text(encoding="utf-8")
        for model in ("core/customer_records", "core/record_observations")
    ]
    dedupe = config.dedupe
    births = [dedupe.date_order, str(dedupe.earliest_birth_date)]
    payload = json.dumps(
        [
            RECORDS_VERSION,
            models,
            wh.describe(quote_identifier("staging.customers")),
            contact_version(config),
            LOOKUP_VERSION,
            births,
        ],
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def whole_reason(wh: Warehouse, settings: str, kept: bool, facts_rebuilt: str) -> str:
    """Why the two tables must be built whole this run (empty: the dirty records can be brought up to date).

    kept: the golden record is brought up to date customer by customer (tasks.dedupe.golden.previous_usable),
    which needs the last run's rows. facts_rebuilt: why core.fact_observations was rebuilt this run."""
    if not kept:
        return "the golden record is built whole"
    if facts_rebuilt:
        return f"the fact observations were rebuilt ({facts_rebuilt})"
    for table in STATE_TABLES:
        if not wh.table_exists(table):
            return f"no {table} yet"
    state = wh.dicts("select version, settings, records, observations from core.record_state")
    if len(state) != 1:
        return "core.record_state does not hold one row"
    if state[0]["settings"] != settings or state[0]["version"] != RECORDS_VERSION:
        return "built with other settings (the models, the staged columns or the lookups' versions)"
    if (state[0]["records"], state[0]["observations"]) != (wh.count(RECORDS), wh.count(OBSERVATIONS)):
        return "the tables lost or gained rows since the last run (an erasure)"
    changed = wh.scalar("select count(*) from _customer_record_file_changes where change = 'changed'")
    if changed:
        return f"{changed} files of customer records were re-read, re-staged, or had rows replaced or erased"
    return ""


def refresh_records(
    wh: Warehouse, config: PipelineConfig, cutoff: datetime, kept: bool, facts_rebuilt: str
) -> tuple[bool, str]:
    """Bring core.customer_records and core.record_observations to the cutoff (after the fact observations,
    which leave _folded_records); return whether _changed_records was built (kept: the last run's rows are
    kept as *_before, and the tables' columns are comparable) and why the tables were built whole (empty:
    brought up to date in place)."""
    settings = settings_fingerprint(wh, config)
    with wh.transaction():
        wh.build("_customer_record_files_now", "core/customer_record_files_now", temp=True)
        wh.ensure("core/customer_record_files")
        wh.build("_customer_record_file_changes", "ops/file_changes", temp=True, identifiers=FILES)
        reason = whole_reason(wh, settings, kept, facts_rebuilt)
        if reason:
            changes = build_whole(wh, cutoff, kept)
        else:
            last = wh.scalar("select cutoff from core.record_state")
            update_dirty(wh, cutoff, last)
            changes = True
        wh.build(FILES["held"], "ops/file_watermark", identifiers=FILES)
        state = {
            "version": RECORDS_VERSION,
            "settings": settings,
            "cutoff": cutoff,
            "records": wh.count(RECORDS),
            "observations": wh.count(OBSERVATIONS),
        }
        wh.build("core.record_state", "core/record_state", state)
        for table in TEMP_TABLES:
            wh.execute(f"drop table if exists {table}")
    return changes, reason


def build_whole(wh: Warehouse, cutoff: datetime, kept: bool) -> bool:
    """Build both tables from every staged record (the last run's kept as *_before when kept); return whether
    _changed_records was built (the columns match the last run's)."""
    if kept:
        keep_previous(wh, RECORDS)
        keep_previous(wh, OBSERVATIONS)
    wh.build(RECORDS, "core/customer_records", {"cutoff": cutoff}, identifiers=WHOLE)
    wh.build(OBSERVATIONS, "core/record_observations", {"cutoff": cutoff}, identifiers=WHOLE_OBSERVATIONS)
    if not (kept and comparable_inputs(wh)):
        return False
    wh.build("_changed_records", "core/changed_records", temp=True, identifiers=WHOLE_CHANGES)
    return True


def update_dirty(wh: Warehouse, cutoff: datetime, last: datetime) -> None:
    """Recompute the rows of the records that can differ since the last run (cutoff last), in place; keep
    their last rows as *_before and build _changed_records."""
    low, high = sorted([last, cutoff])
    wh.build("_dirty_records", "core/records_dirty", {"low": low, "high": high}, temp=True)
    wh.build("_dirty_versions", "core/records_scoped", temp=True, identifiers=_scoped("staging.customers"))
    wh.build(f"{RECORDS}_before", "core/records_scoped", identifiers=_scoped(RECORDS))
    wh.build(f"{OBSERVATIONS}_before", "core/records_scoped", identifiers=_scoped(OBSERVATIONS))
    wh.build("_dirty_facts", "core/records_scoped", temp=True, identifiers=_scoped("core.fact_observations"))
    wh.build("_dirty_records_now", "core/customer_records", {"cutoff": cutoff}, temp=True, identifiers=DIRTY)
    wh.build(
        "_dirty_observations_now",
        "core/record_observations",
        {"cutoff": cutoff},
        temp=True,
        identifiers=DIRTY_OBSERVATIONS,
    )
    for table, rows in ((RECORDS, "_dirty_records_now"), (OBSERVATIONS, "_dirty_observations_now")):
        wh.run("core/records_forget", identifiers=_scoped(table))
        wh.append_rows(table, rows)
    wh.build("_changed_records", "core/changed_records", temp=True, identifiers=DIRTY_CHANGES)


def _scoped(table: str) -> dict[str, str]:
    """The identifiers of sql/core/records_scoped.sql and records_forget.sql for one table."""
    source, record = RECORD_COLUMNS[table]
    return {"table": table, "source": source, "id": record}
