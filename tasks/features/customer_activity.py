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
they were computed from (features.activity_state's generation and row count), when the settings differ
(ACTIVITY_TABLES_VERSION, the record model's text, the session types, the plays' half-life) or when the
day's plays epoch is not the one held.

A record's row also holds its sessions weighed by their day against an epoch (session_weight):
act/interaction_summary_kept reads a day's plays from it instead of the roll-up (tasks/act/recommend.py).
tests/models/features/test_daily_activity.py compares both ways over consecutive days, late rows, merges,
windows crossed and a backfill.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta

from tasks.features.activity import ActivityRefresh
from tasks.shared.config.act import RecommendationConfig
from tasks.shared.warehouse import Warehouse, sql_path

# Bump when what the tables hold changes in a way their models' text does not show: they are built whole.
ACTIVITY_TABLES_VERSION = 2
# The plays' decay (act.recommendations.half_life_days) when no pipeline config says: the config's default.
HALF_LIFE_DAYS = RecommendationConfig.model_fields["half_life_days"].default
# An epoch serves this many half-lives: no weight of a day up to the one weighed as of exceeds 2^16 (2^17 a
# purchase's; decimal(38, 24) holds under 10^14, about 2^46). The models weigh only such days.
EPOCH_HALF_LIVES = 16
EPOCH_ORIGIN = date(1970, 1, 1)
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

    mode: str  # built | updated | unchanged (no record or customer recomputed)
    reason: str  # why they were built whole (empty otherwise)
    records: int  # records recomputed (updated; every record when built)
    customers: int  # customers summed again (updated; every customer when built)
    rows: int  # rows of features.customer_activity afterwards


def play_epoch(as_of: date, half_life_days: float) -> date:
    """The day the plays of as_of are weighed against (features.record_activity's session_weight): the start
    of the span of EPOCH_HALF_LIVES half-lives, counted from EPOCH_ORIGIN, that holds as_of."""
    width = max(1, math.floor(EPOCH_HALF_LIVES * half_life_days))
    return EPOCH_ORIGIN + timedelta(days=(as_of - EPOCH_ORIGIN).days // width * width)


def settings_fingerprint(session_types: list[str], half_life_days: float = HALF_LIFE_DAYS) -> str:
    """What the tables are computed with besides the roll-up, the day and the identity map: the version, the
    models, the session types, the plays' half-life."""
    models = [
        sql_path(model).read_text(encoding="utf-8")
        for model in ("features/record_activity", "features/customer_activity")
    ]
    settings = [ACTIVITY_TABLES_VERSION, models, sorted(session_types), float(half_life_days)]
    return hashlib.sha256(json.dumps(settings, ensure_ascii=False).encode()).hexdigest()[:16]


def whole_reason(
    wh: Warehouse,
    settings: str,
    epoch: date,
    activity: ActivityRefresh,
    half_life_days: float = HALF_LIFE_DAYS,
) -> str:
    """Why the tables must be built whole (empty: the records and customers that can differ are recomputed)."""
    if activity.mode == "rebuilt":
        return "the activity roll-up was rebuilt"
    for table in (RECORDS, CUSTOMERS, IDENTITY, STATE):
        if not wh.table_exists(table):
            return f"no {table} yet"
    state = wh.dicts(f"select version, settings from {STATE}")
    if len(state) != 1:
        return f"{STATE} does not hold one row"
    if (state[0]["version"], state[0]["settings"]) != (ACTIVITY_TABLES_VERSION, settings):
        if state[0]["version"] == ACTIVITY_TABLES_VERSION:  # of this version: it holds the half-life
            held = wh.scalar(f"select half_life_days from {STATE}")
            if held != half_life_days:
                return f"act.recommendations.half_life_days changed from {held:g} to {half_life_days:g}"
        return "computed with other settings (the models, the session types, the half-life or their version)"
    state = wh.dicts(f"select play_epoch, generation, rollup_rows from {STATE}")  # of this version
    if state[0]["play_epoch"] != epoch:
        return f"the day weighs plays against the epoch {epoch}, the tables against {state[0]['play_epoch']}"
    before = activity.generation - 1 if activity.changed else activity.generation
    if (state[0]["generation"], state[0]["rollup_rows"]) != (before, activity.rows_before):
        return "computed from another state of the activity roll-up"
    return ""


def record_params(as_of: date, session_types: list[str], half_life_days: float) -> dict[str, object]:
    """features/record_activity's parameters as of a day."""
    epoch = play_epoch(as_of, half_life_days)
    return {"as_of": as_of, "session_types": session_types, "epoch": epoch, "half_life_days": half_life_days}


def build_customer_activity(
    wh: Warehouse, as_of: date, session_types: list[str], half_life_days: float = HALF_LIFE_DAYS
) -> int:
    """features.record_activity, features.customer_activity and features.activity_identity of every record
    and customer as of a day (their state not written); the customers' rows."""
    params = record_params(as_of, session_types, half_life_days)
    wh.build(RECORDS, "features/record_activity", params, fragments=EVERY_RECORD)
    rows = wh.build(CUSTOMERS, "features/customer_activity", fragments=EVERY_CUSTOMER)
    wh.build(IDENTITY, "features/identity_snapshot")
    return rows


def update_customer_activity(
    wh: Warehouse,
    as_of: date,
    previous: date,
    session_types: list[str],
    half_life_days: float = HALF_LIFE_DAYS,
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
        params = record_params(as_of, session_types, half_life_days)
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
    wh: Warehouse,
    as_of: date,
    session_types: list[str],
    activity: ActivityRefresh,
    half_life_days: float = HALF_LIFE_DAYS,
) -> ActivityTablesRefresh:
    """Bring the records' and customers' activity to as_of and today's identity map, right after the
    roll-up's refresh (activity, which left the days it recomputed in _activity_touched and the records that
    had rows on them in _activity_forgotten, dropped here). half_life_days: the plays' decay
    (act.recommendations.half_life_days)."""
    settings = settings_fingerprint(session_types, half_life_days)
    epoch = play_epoch(as_of, half_life_days)
    with wh.transaction():
        reason = whole_reason(wh, settings, epoch, activity, half_life_days)
        if reason:
            customers = build_customer_activity(wh, as_of, session_types, half_life_days)
            records = wh.scalar(
                f"select count(*) from (select distinct record_source, record_id from {RECORDS})"
            )
            mode = "built"
        else:
            previous = wh.scalar(f"select as_of from {STATE}")
            records, customers = update_customer_activity(wh, as_of, previous, session_types, half_life_days)
            mode = "updated" if records or customers else "unchanged"
        state = {
            "version": ACTIVITY_TABLES_VERSION,
            "settings": settings,
            "as_of": as_of,
            "half_life_days": half_life_days,
            "play_epoch": epoch,
            "generation": activity.generation,
            "rollup_rows": activity.rows,
        }
        wh.build(STATE, "features/customer_activity_state", state)
        for table in TEMP_TABLES:
            wh.execute(f"drop table if exists {table}")
        rows = wh.count(CUSTOMERS)
    return ActivityTablesRefresh(mode, reason, records, customers, rows)
