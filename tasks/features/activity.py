"""The daily activity roll-up (features.daily_activity), kept up to date with the staged events.

A roll-up row counts the events of one customer record (record_source, record_id: never a customer_id,
which merges change; the identity map is joined when features are read) on one local day, of one
event_type and category. It holds every staged event whatever its day, so any as_of reads it (the days
up to as_of), a backfill as well as the newest day.

Incremental: features.activity_files stores, per staged file, its row count and the load that staged
it (audit.load_state) as of the last refresh: the watermark. A run rolls up the files staged since
(new ones) by recomputing every day their rows fall on, late rows' days included, from all staged
events of those days. When a rolled-up file changed (re-read, re-staged, rows replaced by newer versions
or erased: staging rows went and which ones is unknown), or what maps an event to its record or its day
changed (the core.events view, the lookups' config, the time zone, this code's version), the roll-up is
rebuilt from scratch instead, as on `rebuild`.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from tasks.dedupe.lookups import record_mapping
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

# Bump when the roll-up's definition changes (sql/features/daily_activity.sql): older state is rebuilt.
ACTIVITY_VERSION = 1

# The watermark and the files as staged now, compared by sql/ops/file_changes.sql.
FILES = {"held": "features.activity_files", "current": "_activity_files_now"}
# _activity_touched (the days recomputed) and _activity_forgotten (the records that had rows on them) outlive
# the refresh: tasks/features/customer_activity.py reads them.
TEMP_TABLES = ("_activity_files_now", "_activity_file_changes", "_activity_rows")


@dataclass(frozen=True)
class ActivityRefresh:
    """What a refresh of features.daily_activity did."""

    mode: str  # rebuilt | incremental | unchanged
    reason: str  # why it was rebuilt (empty otherwise)
    new_files: int  # files rolled up for the first time
    days: int  # days recomputed (incremental)
    rows: int  # rows of features.daily_activity afterwards
    rows_before: int  # and before (0 when there was none)
    changed: bool  # whether its rows changed (rebuilt, or days recomputed)
    generation: int  # how many times its rows changed, this refresh included (features.activity_state)


def record_settings(config: PipelineConfig) -> str:
    """A fingerprint of what maps a staged event to its record (tasks.dedupe.lookups.record_mapping: the
    contact lookups' version and settings, the source links)."""
    payload = json.dumps(record_mapping(config), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def settings_fingerprint(wh: Warehouse, record_config: str) -> str:
    """The settings the roll-up depends on besides the time zone: the core.events view's text and record_config."""
    view = wh.scalar("select sql from duckdb_views() where schema_name = 'core' and view_name = 'events'")
    return hashlib.sha256(f"{view}\n{record_config}".encode()).hexdigest()[:16]


def rebuild_reason(wh: Warehouse, settings: str, rebuild: bool) -> str:
    """Why the roll-up must be rebuilt from scratch (empty: it can be brought up to date incrementally)."""
    if rebuild:
        return "a rebuild was requested"
    for table in ("features.daily_activity", "features.activity_files", "features.activity_state"):
        if not wh.table_exists(table):
            return f"no {table} yet"
    state = wh.dicts("select version, timezone, settings from features.activity_state")
    if len(state) != 1:
        return "features.activity_state does not hold one row"
    if state[0]["version"] != ACTIVITY_VERSION:
        return f"the roll-up was written by version {state[0]['version']}, this is {ACTIVITY_VERSION}"
    if state[0]["timezone"] != wh.timezone:
        return f"the time zone changed from {state[0]['timezone']} to {wh.timezone}"
    if state[0]["settings"] != settings:
        return "what maps an event to its record changed (the core.events view or the lookups' config)"
    wh.build("_activity_file_changes", "ops/file_changes", temp=True, identifiers=FILES)
    changed = wh.scalar("select count(*) from _activity_file_changes where change = 'changed'")
    if changed:
        return f"{changed} rolled-up files were re-read, re-staged, or had rows replaced or erased"
    return ""


def held_generation(wh: Warehouse) -> int:
    """features.activity_state's generation (0 without one: none yet, or written before generations)."""
    if not wh.table_exists("features.activity_state"):
        return 0
    if "generation" not in wh.columns("features.activity_state"):
        return 0
    return wh.scalar("select max(generation) from features.activity_state") or 0


def refresh_activity(wh: Warehouse, record_config: str = "", rebuild: bool = False) -> ActivityRefresh:
    """Bring features.daily_activity up to date with the staged events (from scratch when it must be).

    record_config: record_settings of the pipeline config (a caller that cannot give it passes the same
    value every time, and then answers for config changes itself: pass rebuild). Leaves the temp tables
    _activity_touched, the days an incremental refresh recomputed, and _activity_forgotten, the records that
    had rows on those days before (none of either otherwise).
    """
    settings = settings_fingerprint(wh, record_config)
    with wh.transaction():
        rows_before = wh.count("features.daily_activity") if wh.table_exists("features.daily_activity") else 0
        generation = held_generation(wh)
        wh.build("_activity_touched", "features/activity_touched_none", temp=True)
        if wh.table_exists("features.daily_activity"):  # none yet (without a roll-up, nothing reads it)
            wh.build("_activity_forgotten", "features/activity_touched_records", temp=True)
        files = wh.build(
            "_activity_files_now",
            "features/staged_files_now",
            temp=True,
            identifiers={"staged": "staging.events", "rows": "events"},
        )
        reason = rebuild_reason(wh, settings, rebuild)
        if reason:
            wh.build(
                "features.daily_activity", "features/daily_activity", identifiers={"events": "core.events"}
            )
            mode, new_files, days = "rebuilt", files, 0
        else:
            new_files = wh.scalar("select count(*) from _activity_file_changes where change = 'new'")
            days = wh.build("_activity_touched", "features/activity_touched", temp=True) if new_files else 0
            if days:
                (first, last), *_ = wh.rows(
                    "select min(activity_date), max(activity_date) from _activity_touched"
                )
                span = {"from_ts": wh.cutoff(first - timedelta(days=1)), "to_ts": wh.cutoff(last)}
                wh.build("_activity_rows", "features/activity_rows", span, temp=True)
                wh.build("_activity_forgotten", "features/activity_touched_records", temp=True)
                wh.run("features/daily_activity_forget")
                # no insert of no rows: in a DuckDB 2.0 transaction it can hide rows a later insert appends
                if wh.count("_activity_rows"):
                    wh.insert(
                        "features.daily_activity",
                        "features/daily_activity",
                        identifiers={"events": "_activity_rows"},
                    )
            mode = "incremental" if new_files else "unchanged"
        changed = mode == "rebuilt" or days > 0
        generation += changed
        # the watermark: the files as staged now
        wh.build(FILES["held"], "ops/file_watermark", identifiers=FILES)
        state = {
            "version": ACTIVITY_VERSION,
            "timezone": wh.timezone,
            "settings": settings,
            "files": files,
            "generation": generation,
        }
        wh.build("features.activity_state", "features/activity_state", state)
        for table in TEMP_TABLES:
            wh.execute(f"drop table if exists {table}")
    rows = wh.count("features.daily_activity")
    return ActivityRefresh(mode, reason, new_files, days, rows, rows_before, changed, generation)
