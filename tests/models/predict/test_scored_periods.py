"""A day scored with stored models: its activity periods by category in period 0 only, and its snapshot 0
equal to the fit day's snapshot 0 (tasks.predict.fitting.build_scored_snapshot)."""

from __future__ import annotations

from datetime import date

from tasks.features.customer_activity import build_customer_activity
from tasks.predict import build_activity_periods as build_periods
from tasks.predict.fitting import build_scored_snapshot
from tasks.shared.config import FeatureConfig, PredictConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import roll_up
from tests.models.predict.world import AS_OF, HORIZON, OLDEST, ago, build_inputs, build_snapshots

SESSION_TYPES = ["session"]
# periods of C1 and C2 when only period 0 is summed by category (oldest 2, as a scored day builds them):
# (customer, period, sessions, last_session_date, favourite_game)
SCORED_SESSIONS = [
    ("C1", 0, 3, ago(0), "doudizhu"),
    ("C1", 1, 1, ago(30), None),  # poker when summed by category
    ("C1", 2, 2, ago(65), None),  # mahjong twice
    ("C2", 1, 1, ago(59), None),  # mahjong
    ("C2", 2, 1, ago(60), None),
]


def periods(wh: Warehouse, oldest: int, detailed: int | None) -> list[dict]:
    """_activity_periods of the world as of AS_OF, rows by customer and period."""
    build_periods(wh, AS_OF, HORIZON, oldest, SESSION_TYPES, detailed)
    return wh.dicts("select * from _activity_periods order by customer_id, period")


def test_only_the_periods_before_detailed_have_a_favourite_game(wh: Warehouse) -> None:
    build_inputs(wh)
    roll_up(wh)
    every = periods(wh, 2, None)
    scored = periods(wh, 2, 1)
    sessions = [
        (row["customer_id"], row["period"], row["sessions"], row["last_session_date"], row["favourite_game"])
        for row in scored
        if row["sessions"]
    ]
    assert sessions == SCORED_SESSIONS
    assert [row for row in scored if row["period"] == 0] == [row for row in every if row["period"] == 0]
    # later periods: the same purchases, sessions and last session, no favourite game
    same = ("favourite_game", "session_minutes")
    assert [{k: v for k, v in row.items() if k not in same} for row in scored] == [
        {k: v for k, v in row.items() if k not in same} for row in every
    ]
    assert {row["favourite_game"] for row in scored if row["period"] > 0} == {None}
    assert any(row["favourite_game"] for row in every if row["period"] > 0)


def snapshot_zero(wh: Warehouse, oldest: int, detailed: int | None) -> list[tuple]:
    """Snapshot 0's rows over the periods built with oldest and detailed."""
    build_periods(wh, AS_OF, HORIZON, oldest, SESSION_TYPES, detailed)
    build_snapshots(wh, [0])
    return wh.rows("select * from _snapshots order by customer_id")


def test_the_scored_snapshot_equals_snapshot_0_of_a_fit_day(wh: Warehouse) -> None:
    build_inputs(wh)
    roll_up(wh)
    fit_day = snapshot_zero(wh, OLDEST, None)  # every period apart, as build_snapshots does
    scored = snapshot_zero(wh, 2, 1)  # as build_scored_snapshot does
    assert scored == fit_day
    assert [row[2] for row in scored] == ["C1", "C2", "C3", "C4"]
    c1 = wh.dicts("select * from _snapshots where customer_id = 'C1'")[0]
    assert (c1["sessions"], c1["sessions_last"], c1["sessions_previous"], c1["favourite_game"]) == (
        6,  # 3 + 1 + 2
        3,
        1,
        "doudizhu",
    )
    assert c1["snapshot_date"] == date(2026, 3, 31)


def scored_features(wh: Warehouse) -> None:
    """The columns of features.customer_features of AS_OF that sql/predict/scored_periods.sql reads, from the
    roll-up as the features stage computes them (features/customer_activity.sql)."""
    params = {"as_of": AS_OF, "session_types": SESSION_TYPES}
    build_customer_activity(wh, params["as_of"], params["session_types"])
    wh.execute(
        "create or replace table features.customer_features as "
        "select customer_id, sessions_total, last_session_date from features.customer_activity"
    )


def test_a_scored_day_reads_the_older_sessions_from_the_features_and_equals_a_fit_day(wh: Warehouse) -> None:
    build_inputs(wh)
    roll_up(wh)
    scored_features(wh)
    fit_day = snapshot_zero(wh, OLDEST, None)  # every period apart, as build_snapshots does
    config = PredictConfig(horizon_days=HORIZON)
    build_scored_snapshot(wh, config, FeatureConfig(session_event_types=SESSION_TYPES), AS_OF)
    assert wh.rows("select * from _snapshots order by customer_id") == fit_day
    # periods 0 and 1 as activity_periods gives them; period 2, the older sessions: their number (C1: mahjong
    # twice, C2: once) and, standing for the maximum over the periods, the customer's last session
    sessions = wh.rows(
        "select customer_id, period, sessions, last_session_date, favourite_game, session_minutes "
        "from _activity_periods where sessions > 0 order by customer_id, period"
    )
    assert [row[:5] for row in sessions] == [
        ("C1", 0, 3, ago(0), "doudizhu"),
        ("C1", 1, 1, ago(30), None),
        ("C1", 2, 2, ago(0), None),
        ("C2", 1, 1, ago(59), None),
        ("C2", 2, 1, ago(59), None),
    ]
    assert [row[5] for row in sessions if row[1] == 2] == [0, 0]
    assert wh.scalar("select count(*) from _snapshots where customer_id = 'C1' and sessions = 6") == 1
