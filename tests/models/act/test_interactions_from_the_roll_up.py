"""act/interaction_summary over the daily roll-up equals its definition over the raw events, day after day
(new, late and changed rows, merging records: tests/models/predict/staged_world.py): as of the day, and as of
an evaluation's fit day read to the day (the fit's rows and the truth); and so does
act/interaction_summary_kept, which a served day reads the plays of from features.record_activity."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tasks.act.recommend import build_interactions
from tasks.features.customer_activity import play_epoch
from tasks.shared.config.act import RecommendationConfig
from tasks.shared.warehouse import Warehouse
from tests.models.features.test_daily_activity import day
from tests.models.helpers import local, stage
from tests.models.predict.staged_world import HALF_LIFE_DAYS, SESSION_TYPES, staged_days

ORACLE = (Path(__file__).parent / "interactions_raw.sql").read_text(encoding="utf-8")
CONFIG = RecommendationConfig(half_life_days=HALF_LIFE_DAYS)
COLUMNS = "customer_id, item, affinity, plays, purchases, first_date, last_date"
FIT_COLUMNS = (
    "customer_id, item, fit_affinity as affinity, fit_plays as plays, fit_purchases as purchases, first_date, "
    "fit_last_date as last_date"
)


def build_raw_interactions(wh: Warehouse, table: str, as_of: date, read_to: date) -> None:
    """act/interaction_summary as of as_of as defined over the raw events, reading them up to the end of read_to."""
    params = {"as_of": as_of, "cutoff": wh.cutoff(read_to), "session_types": SESSION_TYPES}
    params |= {"half_life_days": 10.0, "purchase_weight": 2.0, "epoch": play_epoch(as_of, 10.0)}
    wh.execute(f"create or replace temp table {table} as {ORACLE}", params)


def test_interactions_from_the_roll_up_equal_the_raw_definition() -> None:
    for staged, as_of, _ in staged_days():
        wh = staged.wh
        if as_of == day(1):  # purchases stay on core.transactions: one of a played item, one of another
            stage(
                wh,
                "transactions",
                [
                    {"source": "game", "_file": "t", "_row": 1, "txn_id": "t1", "customer_ref": "m2",
                     "ts": local(day(1) - timedelta(days=2)), "amount": 6, "status": "paid", "category": "mahjong"},
                    {"source": "game", "_file": "t", "_row": 2, "txn_id": "t2", "customer_ref": "m1",
                     "ts": local(day(3)), "amount": 6, "category": "slots"},
                ],
            )  # fmt: skip
        # a full refresh's one read: weighed as of the day, and as of an evaluation's fit day (fit_ columns)
        build_interactions(wh, CONFIG, SESSION_TYPES, "_both", as_of, fit_day=as_of - timedelta(days=2))
        for weighed_as_of in (as_of - timedelta(days=40), as_of - timedelta(days=2), as_of):
            plays_from = build_interactions(wh, CONFIG, SESSION_TYPES, "_interactions", weighed_as_of, as_of)
            # as of the day features were built for: the plays kept per record; as of another: the roll-up
            kept = "features.record_activity" if weighed_as_of == as_of else "features.daily_activity"
            assert plays_from == kept
            build_raw_interactions(wh, "_raw_interactions", weighed_as_of, as_of)
            rows = wh.rows(f"select {COLUMNS} from _interactions order by all")
            assert rows == wh.rows("select * from _raw_interactions order by all"), (as_of, weighed_as_of)
            assert wh.describe(f"(select {COLUMNS} from _interactions)") == wh.describe("_raw_interactions")
            assert wh.rows("select count(*) from _interactions where fit_affinity is not null") == [(0,)]
            if weighed_as_of == as_of:
                assert wh.rows(f"select {COLUMNS} from _both order by all") == rows
            if weighed_as_of == as_of - timedelta(days=2):
                assert wh.rows(f"select {FIT_COLUMNS} from _both order by all") == rows
                assert wh.describe(f"(select {FIT_COLUMNS} from _both)") == wh.describe("_raw_interactions")
        assert sum(row[3] for row in rows) > 0, "the day has plays"
        assert sum(row[4] for row in rows) > 0, "and purchases"
