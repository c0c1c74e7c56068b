"""Each record's and each customer's activity as of a day, kept from run to run.

features.record_activity holds each customer record's activity per category (sql/features/record_activity.sql:
its windows, totals and last dates), features.customer_activity their sums per customer
(sql/features/customer_activity.sql), which the customer features read, and features.activity_identity
the identity map those sums were made with. A day does not pass over the whole daily roll-up (9.4M rows
at 1M customers) nor sum every customer again:

- a record's row is a sum or a max of its roll-up rows, each counted in a window by its day alone, so
  between the day the tables hold and the day asked for only the records with a roll-up row on a day the
  roll-up recomputed in between (new and late rows), or on a day that enters or leaves a window, can
  differ (sql/features/record_activity_dirty.sql): their rows are recomputed;
- a customer's row is the sum of their records' rows, so only the customers of those records and the
  customers whose records changed in the identity map (a merge, a split, a new record) can differ
  (sql/features/activity_customers_dirty.sql): their rows are summed again.

Both are built whole, as on a full refresh, when the roll-up was rebuilt, when the roll-up is not the one
they were computed from (features.activity_state's generation and row count), or when the settings differ
(ACTIVITY_TABLES_VERSION, the record model's text, the session types).
tests/models/features/test_daily_activity.py compares both ways over consecutive days, late rows, merges,
windows crossed and a backfill.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from tasks.features.activity import ActivityRefresh
from tasks.shared.warehouse import Warehouse, sql_path

# Bump when what the tables hold changes in a way their models' text does not show: they are built whole.
ACTIVITY_TABLES_VERSION = 1
RECORDS = "features.record_activity"
CUSTOMERS = "features.customer_activity"
IDENTITY = "features.activity_identity"
STATE = "features.customer_activity_state"
HELD = {"held": IDENTITY}  # sql/features/identity_moved.sql, identity_snapshot_update.sql
EVERY_RECORD = {"records": "true"}
DIRTY_RECORDS = {
    "records": (
        "exists (select 1 from _record_activity_dirty as dirty "
        "where dirty.record_source = activity.record_source "
        "and dirty.record_id is not distinct from activity.record_id)"
    )
}
EVERY_CUSTOMER = {"customers": "true"}
DIRTY_CUSTOMERS = {"customers": "customer_id in (select customer_id from _activity_customers_dirty)"}
TEMP_TABLES = (
    "_record_activity_dirty",
    "_record_activity_now",
    "_activity_identity_moved",
    "_activity_customers_dirty",
    "_customer_activity_now",
    "_activity_touched",
    "_activity_forgotten",
)


@dataclass(frozen=True)
class ActivityTablesRefresh:
    """What a refresh of features.record_activity and features.customer_activity did."""

    mode: str  # built | updated
    reason: str  # why they were built whole (empty otherwise)
    records: int  # records recomputed (updated; every record when built)
    customers: int  # customers summed again (updated; every customer when built)
    rows: int  # rows of features.customer_activity afterwards


def settings_fingerprint(session_types: list[str]) -> str:
    """What the tables are computed with besides the roll-up, the day and the identity map: the version, the
    models, the session types."""
    models = [
        sql_path(model).read_text(encoding="utf-8")
        for model in ("features/record_activity", "features/customer_activity")
    ]
    payload = json.dumps([ACTIVITY_TABLES_VERSION, models, sorted(session_types)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def whole_reason(wh: Warehouse, settings: str, activity: ActivityRefresh) -> str:
    """Why the tables must be built whole (empty: the records and customers that can differ are recomputed)."""
    if activity.mode == "rebuilt":
        return "the activity roll-up was rebuilt"
    for table in (RECORDS, CUSTOMERS, IDENTITY, STATE):
        if not wh.table_exists(table):
            return f"no {table} yet"
    state = wh.dicts(f"select version, settings, generation, rollup_rows from {STATE}")
    if len(state) != 1:
        return f"{STATE} does not hold one row"
    if (state[0]["version"], state[0]["settings"]) != (ACTIVITY_TABLES_VERSION, settings):
        return "computed with other settings (the models, the session types or their version)"
    before = activity.generation - 1 if activity.changed else activity.generation
    if (state[0]["generation"], state[0]["rollup_rows"]) != (before, activity.rows_before):
        return "computed from another state of the activity roll-up"
    return ""


def build_customer_activity(wh: Warehouse, as_of: date, session_types: list[str]) -> int:
    """features.record_activity, features.customer_activity and features.activity_identity of every record
    and customer as of a day (their state not written); the customers' rows."""
    wh.build(
        RECORDS,
        "features/record_activity",
        {"as_of": as_of, "session_types": session_types},
        fragments=EVERY_RECORD,
    )
    rows = wh.build(CUSTOMERS, "features/customer_activity", fragments=EVERY_CUSTOMER)
    wh.build(IDENTITY, "features/identity_snapshot")
    return rows


def update_customer_activity(
    wh: Warehouse, as_of: date, previous: date, session_types: list[str]
) -> tuple[int, int]:
    """Recompute the rows of the records and customers that can differ between previous (the day the tables
    hold) and as_of, in place; (records, customers) recomputed."""
    records = wh.build(
        "_record_activity_dirty",
        "features/record_activity_dirty",
        {"as_of": as_of, "previous": previous},
        temp=True,
    )
    if records:
        params = {"as_of": as_of, "session_types": session_types}
        wh.build(
            "_record_activity_now", "features/record_activity", params, temp=True, fragments=DIRTY_RECORDS
        )
        wh.run("features/record_activity_forget")
        wh.append_rows(RECORDS, "_record_activity_now")
    moved = wh.build("_activity_identity_moved", "features/identity_moved", temp=True, identifiers=HELD)
    customers = wh.build("_activity_customers_dirty", "features/activity_customers_dirty", temp=True)
    if customers:
        wh.build("_customer_activity_now", "features/customer_activity", temp=True, fragments=DIRTY_CUSTOMERS)
        wh.run("features/customer_activity_forget")
        wh.append_rows(CUSTOMERS, "_customer_activity_now")
    if moved:
        wh.run("features/identity_snapshot_update", identifiers=HELD | {"moved": "_activity_identity_moved"})
    return records, customers


def refresh_customer_activity(
    wh: Warehouse, as_of: date, session_types: list[str], activity: ActivityRefresh
) -> ActivityTablesRefresh:
    """Bring the records' and customers' activity to as_of and today's identity map, right after the
    roll-up's refresh (activity, which left the days it recomputed in _activity_touched and the records that
    had rows on them in _activity_forgotten, dropped here)."""
    settings = settings_fingerprint(session_types)
    with wh.transaction():
        reason = whole_reason(wh, settings, activity)
        if reason:
            customers = build_customer_activity(wh, as_of, session_types)
            records = wh.scalar(
                f"select count(*) from (select distinct record_source, record_id from {RECORDS})"
            )
            mode = "built"
        else:
            previous = wh.scalar(f"select as_of from {STATE}")
            records, customers = update_customer_activity(wh, as_of, previous, session_types)
            mode = "updated"
        state = {
            "version": ACTIVITY_TABLES_VERSION,
            "settings": settings,
            "as_of": as_of,
            "generation": activity.generation,
            "rollup_rows": activity.rows,
        }
        wh.build(STATE, "features/customer_activity_state", state)
        for table in TEMP_TABLES:
            wh.execute(f"drop table if exists {table}")
        rows = wh.count(CUSTOMERS)
    return ActivityTablesRefresh(mode, reason, records, customers, rows)
