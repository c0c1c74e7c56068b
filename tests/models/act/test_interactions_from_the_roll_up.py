"""act/interaction_summary over the daily roll-up equals its definition over the raw events, day after day
(new, late and changed rows, merging records: tests/models/predict/staged_world.py): as of the day, and as of
an evaluation's fit day read to the day (the fit's rows and the truth); and so does
act/interaction_summary_kept, which a served day reads the plays of from features.record_activity."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tasks.act.recommend import build_interactions, kept_plays_reason
from tasks.features import build_features
from tasks.features.customer_activity import play_epoch
from tasks.shared.config.act import RecommendationConfig
from tasks.shared.warehouse import Warehouse
from tests.models.features.test_daily_activity import CONFIG as FEATURES
from tests.models.features.test_daily_activity import day, event, warehouse
from tests.models.helpers import local, stage
from tests.models.predict.staged_world import CUSTOMERS, HALF_LIFE_DAYS, IDENTITY, SESSION_TYPES, staged_days

ORACLE = (Path(__file__).parent / "interactions_raw.sql").read_text(encoding="utf-8")
CONFIG = RecommendationConfig(half_life_days=HALF_LIFE_DAYS)
COLUMNS = "customer_id, item, affinity, plays, purchases, first_date, last_date"
FIT_COLUMNS = (
    "customer_id, item, fit_affinity as affinity, fit_plays as plays, fit_purchases as purchases, first_date, "
    "fit_last_date as last_date"
)


def build_raw_interactions(
    wh: Warehouse, table: str, as_of: date, read_to: date, half_life: float = HALF_LIFE_DAYS
) -> None:
    """act/interaction_summary as of as_of as defined over the raw events, reading them up to the end of read_to."""
    params = {"as_of": as_of, "cutoff": wh.cutoff(read_to), "session_types": SESSION_TYPES}
    params |= {"half_life_days": half_life, "purchase_weight": 2.0, "epoch": play_epoch(as_of, half_life)}
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


def test_the_kept_plays_serve_only_their_day_and_settings_and_a_new_epoch() -> None:
    """kept_plays_reason: features.record_activity serves the day it is of, with its session types and
    half-life; otherwise the roll-up is read. A day in a new epoch (a half-life of one day: 2026-03-16 starts
    one) builds the kept tables whole, and the kept plays still equal the raw definition."""
    staged = warehouse()
    wh = staged.wh
    one_day = RecommendationConfig(half_life_days=1.0)
    try:
        staged.resolve(IDENTITY, CUSTOMERS)
        staged.load(
            "game",
            "game/a.parquet",
            [
                event("g1", "m1", local(day(1))),
                event("g2", "m1", local(day(14)), category="poker"),
                event("g3", "m2", local(day(10)), kind="match"),
                event("g4", "m2", local(day(15)), kind="share", category="poker"),  # not a play
                event("g5", "m3", local(day(16)), category="poker"),  # after day 15: read on day 16
            ],
        )
        stage(
            wh,
            "transactions",
            [{"source": "game", "_file": "t", "_row": 1, "txn_id": "t1", "customer_ref": "m2", "ts": local(day(12)),
              "amount": 6, "status": "paid", "category": "poker"}],
        )  # fmt: skip
        build_features(wh, FEATURES, day(15), half_life_days=1.0)
        held = "features.record_activity is as of 2026-03-15, not 2026-03-16"
        settings = (
            "features.record_activity was computed with other settings (its version, the session types or the "
            "half-life)"
        )
        for config, session_types, as_of, reason in (
            (one_day, SESSION_TYPES, day(15), ""),
            (one_day, SESSION_TYPES, day(16), held),
            (RecommendationConfig(half_life_days=30), SESSION_TYPES, day(15), settings),
            (one_day, ["session"], day(15), settings),
        ):
            assert kept_plays_reason(wh, config, session_types, as_of) == reason
            expected = "features.daily_activity" if reason else "features.record_activity"
            assert build_interactions(wh, config, session_types, "_interactions", as_of) == expected
        for as_of, mode, reason in (
            (
                day(16),
                "built",
                "the day weighs plays against the epoch 2026-03-16, the tables against 2026-02-28",
            ),
            (day(17), "unchanged", ""),  # kept: no row entered or left a window
        ):
            refresh = build_features(wh, FEATURES, as_of, half_life_days=1.0)["customer_activity"]
            assert (refresh["mode"], refresh["reason"]) == (mode, reason)
            plays_from = build_interactions(wh, one_day, SESSION_TYPES, "_interactions", as_of)
            assert plays_from == "features.record_activity"
            build_raw_interactions(wh, "_raw_interactions", as_of, as_of, half_life=1.0)
            rows = wh.rows(f"select {COLUMNS} from _interactions order by all")
            assert rows == wh.rows("select * from _raw_interactions order by all")
            assert [row[:2] + row[3:] for row in rows] == [
                ("C1", "mahjong", 1, 0, day(1), day(1)),
                ("C1", "poker", 1, 0, day(14), day(14)),
                ("C2", "mahjong", 1, 0, day(10), day(10)),
                ("C2", "poker", 0, 1, day(12), day(12)),
                ("C3", "poker", 1, 0, day(16), day(16)),
            ]
            # a play one day old weighs 1/2: C3's on day 17
            assert rows[-1][2] == pytest.approx(0.5 ** (as_of - day(16)).days, rel=1e-13)
    finally:
        wh.close()
