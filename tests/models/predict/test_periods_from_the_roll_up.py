"""predict/activity_periods over the daily roll-up equals its definition over the raw events, day after day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tasks.predict import build_activity_periods
from tasks.shared.warehouse import Warehouse
from tests.models.predict.staged_world import SESSION_TYPES, staged_days

ORACLE = (Path(__file__).parent / "activity_periods_raw.sql").read_text(encoding="utf-8")
HORIZON = 30


def build_raw_periods(wh: Warehouse, as_of: date, oldest: int) -> None:
    """_raw_periods: _activity_periods as defined over the raw events (a session's period by its instant)."""
    cases = " ".join(f"when events.ts >= $start_{k} then {k}" for k in range(oldest))
    starts = {f"start_{k}": wh.cutoff(as_of - timedelta(days=HORIZON * (k + 1))) for k in range(oldest)}
    params = {"as_of": as_of, "cutoff": wh.cutoff(as_of), "horizon": HORIZON, "oldest": oldest}
    sql = ORACLE.replace("{{session_period}}", f"case {cases} else {oldest} end")
    wh.execute(
        f"create or replace temp table _raw_periods as {sql}",
        params | starts | {"session_types": SESSION_TYPES},
    )


def test_activity_periods_from_the_roll_up_equal_the_raw_definition() -> None:
    modes = []
    for staged, as_of, mode in staged_days():
        modes.append(mode)
        wh = staged.wh
        for oldest in (1, 2, 8):  # a scored day's periods, and a fit day's (every period apart)
            build_activity_periods(wh, as_of, HORIZON, oldest, SESSION_TYPES)
            build_raw_periods(wh, as_of, oldest)
            periods = wh.rows("select * from _activity_periods order by all")
            assert periods == wh.rows("select * from _raw_periods order by all"), (as_of, oldest)
            assert wh.describe("_activity_periods") == wh.describe("_raw_periods")
        assert sum(row[9] for row in periods) > 0, "the day has sessions"
    assert modes == ["rebuilt", "incremental", "incremental", "incremental"]
