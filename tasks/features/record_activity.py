"""Each customer record's activity per category as of a day (features.record_activity), kept from run to run.

The customer features add these rows up per customer (sql/features/customer_activity.sql) instead of
passing over the whole daily roll-up every day (9.4M rows at 1M customers, for 2.5M record rows). A
record's row is a sum or a max of its roll-up rows, each counted in a window by its day alone
(sql/features/record_activity.sql), so between the day the table holds and the day asked for, only these
records can differ (sql/features/record_activity_dirty.sql):

- the records with a roll-up row on a day the roll-up recomputed in between (new and late rows);
- the records with a roll-up row on a day that enters or leaves a window between the two days.

Those are recomputed, the others kept. The table is built whole, as on a full refresh, when the roll-up was
rebuilt, when the roll-up is not the one the table was computed from (features.activity_state's generation
and row count), or when the settings differ (RECORD_ACTIVITY_VERSION, the model's text, the session
types). tests/models/features/test_daily_activity.py compares both ways over consecutive days, late rows,
a backfill and windows crossed.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from tasks.features.activity import ActivityRefresh
from tasks.shared.warehouse import Warehouse, sql_path

# Bump when what the table holds changes in a way its model's text does not show: it is built whole.
RECORD_ACTIVITY_VERSION = 1
TABLE = "features.record_activity"
STATE = "features.record_activity_state"
MODEL = "features/record_activity"
EVERY_RECORD = {"records": "true"}
DIRTY_RECORDS = {
    "records": (
        "exists (select 1 from _record_activity_dirty as dirty "
        "where dirty.record_source = activity.record_source "
        "and dirty.record_id is not distinct from activity.record_id)"
    )
}


@dataclass(frozen=True)
class RecordActivityRefresh:
    """What a refresh of features.record_activity did."""

    mode: str  # built | updated
    reason: str  # why it was built whole (empty otherwise)
    records: int  # records recomputed (updated; every record when built)
    rows: int  # rows of features.record_activity afterwards


def settings_fingerprint(session_types: list[str]) -> str:
    """What the table is computed with besides the roll-up and the day: the version, the model, the session types."""
    payload = json.dumps(
        [RECORD_ACTIVITY_VERSION, sql_path(MODEL).read_text(encoding="utf-8"), sorted(session_types)],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def whole_reason(wh: Warehouse, settings: str, activity: ActivityRefresh) -> str:
    """Why the table must be built whole (empty: the records that can differ are recomputed)."""
    if activity.mode == "rebuilt":
        return "the activity roll-up was rebuilt"
    for table in (TABLE, STATE):
        if not wh.table_exists(table):
            return f"no {table} yet"
    state = wh.dicts(f"select version, settings, generation, rollup_rows from {STATE}")
    if len(state) != 1:
        return f"{STATE} does not hold one row"
    if (state[0]["version"], state[0]["settings"]) != (RECORD_ACTIVITY_VERSION, settings):
        return "computed with other settings (the model, the session types or its version)"
    before = activity.generation - 1 if activity.changed else activity.generation
    if (state[0]["generation"], state[0]["rollup_rows"]) != (before, activity.rows_before):
        return "computed from another state of the activity roll-up"
    return ""


def build_record_activity(wh: Warehouse, as_of: date, session_types: list[str]) -> int:
    """features.record_activity of every record as of a day (its state not written); its rows."""
    params = {"as_of": as_of, "session_types": session_types}
    return wh.build(TABLE, MODEL, params, fragments=EVERY_RECORD)


def refresh_record_activity(
    wh: Warehouse, as_of: date, session_types: list[str], activity: ActivityRefresh
) -> RecordActivityRefresh:
    """Bring features.record_activity to as_of, right after the roll-up's refresh (activity, which left the
    days it recomputed in _activity_touched, dropped here)."""
    settings = settings_fingerprint(session_types)
    with wh.transaction():
        reason = whole_reason(wh, settings, activity)
        if reason:
            rows = build_record_activity(wh, as_of, session_types)
            records = wh.scalar(
                f"select count(*) from (select distinct record_source, record_id from {TABLE})"
            )
            mode = "built"
        else:
            previous = wh.scalar(f"select as_of from {STATE}")
            records = wh.build(
                "_record_activity_dirty",
                "features/record_activity_dirty",
                {"as_of": as_of, "previous": previous},
                temp=True,
            )
            if records:
                params = {"as_of": as_of, "session_types": session_types}
                wh.build("_record_activity_now", MODEL, params, temp=True, fragments=DIRTY_RECORDS)
                wh.run("features/record_activity_forget")
                # no insert of no rows: in a DuckDB 2.0 transaction it can hide rows a later insert appends
                if wh.count("_record_activity_now"):
                    wh.execute(f"insert into {TABLE} by name select * from _record_activity_now")
            rows = wh.count(TABLE)
            mode = "updated"
        state = {
            "version": RECORD_ACTIVITY_VERSION,
            "settings": settings,
            "as_of": as_of,
            "generation": activity.generation,
            "rollup_rows": activity.rows,
        }
        wh.build(STATE, "features/record_activity_state", state)
        for table in ("_record_activity_dirty", "_record_activity_now", "_activity_touched"):
            wh.execute(f"drop table if exists {table}")
    return RecordActivityRefresh(mode, reason, records, rows)
