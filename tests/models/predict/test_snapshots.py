"""Model tests of predict/snapshots: each customer at snapshots 0, 1 and 2 (as_of, as_of - 30, as_of - 60)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tasks.shared.warehouse import Warehouse
from tests.models.predict.world import (
    ago,
    build_activity_periods,
    build_inputs,
    build_snapshots,
    snapshot_day,
)

NO_OUTCOME = {
    "future_purchases": None,
    "future_purchase_days": None,
    "future_spend": None,
    "future_sessions": None,
}
NOTHING_AFTER = {
    "future_purchases": 0,
    "future_purchase_days": 0,
    "future_spend": Decimal("0.00"),
    "future_sessions": 0,
}
NO_SESSION = {
    "session_recency_days": None,
    "sessions": 0,
    "sessions_last": 0,
    "sessions_previous": 0,
    "session_minutes_last": 0.0,
    "favourite_game": None,
}
# a customer without a purchase up to the snapshot: counts 0, the rest null
NO_PURCHASE = {
    "recency_days": None,
    "purchases": 0,
    "purchase_days": 0,
    "spend": None,
    "spend_per_purchase": None,
    "purchases_last": 0,
    "purchases_previous": 0,
    "spend_last": Decimal("0.00"),
    "spend_previous": Decimal("0.00"),
    "purchase_rate_30d": None,
    "repeat_purchase_days": None,
    "purchase_span_days": None,
    "purchase_age_days": None,
    "repeat_spend": None,
}


@pytest.fixture
def snapshots(wh: Warehouse) -> dict[tuple[int, str], dict]:
    """The rows of snapshots 0, 1 and 2 by (snapshot, customer_id)."""
    build_inputs(wh)
    build_activity_periods(wh)
    build_snapshots(wh, [0, 1, 2])
    return {(row["snapshot"], row["customer_id"]): row for row in wh.dicts("select * from _snapshots")}


def test_snapshots_hold_the_customers_active_up_to_their_day(snapshots: dict) -> None:
    assert sorted((k, row["snapshot_date"]) for k, row in snapshots.items()) == [
        ((0, "C1"), ago(0)),
        ((0, "C2"), ago(0)),
        ((0, "C3"), ago(0)),
        ((0, "C4"), ago(0)),  # C4's first purchase is 10 days before as_of: not in snapshots 1 and 2
        ((1, "C1"), ago(30)),
        ((1, "C2"), ago(30)),
        ((1, "C3"), ago(30)),
        ((2, "C1"), ago(60)),
        ((2, "C2"), ago(60)),
        ((2, "C3"), ago(60)),
    ]
    assert snapshot_day(2) == ago(60)


def test_snapshots_of_a_customer_who_buys_and_plays(snapshots: dict) -> None:
    # C1 purchase days: as_of (120.00 in two orders), as_of - 29 (50.00), - 30 (30.00), - 75 (40.00);
    # sessions: 3 in period 0 (16 minutes), poker at - 30 (2 minutes), mahjong at - 65 and - 70 (3 minutes)
    assert snapshots[0, "C1"] == pytest.approx(
        {
            "snapshot": 0,
            "snapshot_date": ago(0),
            "customer_id": "C1",
            "recency_days": 0,
            "purchases": 5,
            "purchase_days": 4,
            "spend": Decimal("240.00"),
            "spend_per_purchase": 48.0,
            "purchases_last": 3,
            "purchases_previous": 1,
            "spend_last": Decimal("170.00"),
            "spend_previous": Decimal("30.00"),
            "session_recency_days": 0,
            "sessions": 6,
            "sessions_last": 3,
            "sessions_previous": 1,
            "session_minutes_last": 16.0,
            "favourite_game": "doudizhu",  # of the last horizon
            "tenure_days": 303,  # first seen 2025-06-01
            "purchase_rate_30d": 4 * 30 / 76,
            "session_rate_30d": 6 * 30 / 304,
            "repeat_purchase_days": 3,
            "purchase_span_days": 75,
            "purchase_age_days": 75,
            "repeat_spend": (240 - 40) / 3,  # the first day left out
            **NO_OUTCOME,  # snapshot 0: the horizon after it has not happened
        }
    )
    # snapshot 1 (as_of - 30) sees as_of - 30 but not as_of - 29, which is its outcome
    assert snapshots[1, "C1"] == pytest.approx(
        {
            "snapshot": 1,
            "snapshot_date": ago(30),
            "customer_id": "C1",
            "recency_days": 0,
            "purchases": 2,
            "purchase_days": 2,
            "spend": Decimal("70.00"),
            "spend_per_purchase": 35.0,
            "purchases_last": 1,
            "purchases_previous": 1,
            "spend_last": Decimal("30.00"),
            "spend_previous": Decimal("40.00"),
            "session_recency_days": 0,
            "sessions": 3,
            "sessions_last": 1,
            "sessions_previous": 2,
            "session_minutes_last": 2.0,
            "favourite_game": "poker",
            "tenure_days": 273,
            "purchase_rate_30d": 2 * 30 / 46,
            "session_rate_30d": 3 * 30 / 274,
            "repeat_purchase_days": 1,
            "purchase_span_days": 45,
            "purchase_age_days": 45,
            "repeat_spend": 30.0,
            "future_purchases": 3,
            "future_purchase_days": 2,
            "future_spend": Decimal("170.00"),
            "future_sessions": 3,
        }
    )
    assert snapshots[2, "C1"] == pytest.approx(
        {
            "snapshot": 2,
            "snapshot_date": ago(60),
            "customer_id": "C1",
            "recency_days": 15,
            "purchases": 1,
            "purchase_days": 1,
            "spend": Decimal("40.00"),
            "spend_per_purchase": 40.0,
            "purchases_last": 1,
            "purchases_previous": 0,
            "spend_last": Decimal("40.00"),
            "spend_previous": Decimal("0.00"),
            "session_recency_days": 5,
            "sessions": 2,
            "sessions_last": 2,
            "sessions_previous": 0,
            "session_minutes_last": 3.0,
            "favourite_game": "mahjong",
            "tenure_days": 243,
            "purchase_rate_30d": 30 / 16,
            "session_rate_30d": 2 * 30 / 244,
            "repeat_purchase_days": 0,
            "purchase_span_days": 0,
            "purchase_age_days": 15,
            "repeat_spend": None,  # one purchase day: no repeat spend
            "future_purchases": 1,
            "future_purchase_days": 1,
            "future_spend": Decimal("30.00"),
            "future_sessions": 1,
        }
    )


def test_snapshots_of_a_customer_who_only_plays_have_null_purchase_columns(snapshots: dict) -> None:
    # C2: mahjong at as_of - 59 (90 s), a session without game or duration at as_of - 60; first seen 02-11
    assert snapshots[0, "C2"] == pytest.approx(
        {
            "snapshot": 0,
            "snapshot_date": ago(0),
            "customer_id": "C2",
            **NO_PURCHASE,
            "session_recency_days": 59,
            "sessions": 2,
            "sessions_last": 0,
            "sessions_previous": 1,
            "session_minutes_last": 0.0,
            "favourite_game": None,  # nothing played in the last horizon
            "tenure_days": 48,
            "session_rate_30d": 2 * 30 / 49,
            **NO_OUTCOME,
        }
    )
    assert snapshots[1, "C2"] == pytest.approx(
        {
            "snapshot": 1,
            "snapshot_date": ago(30),
            "customer_id": "C2",
            **NO_PURCHASE,
            "session_recency_days": 29,
            "sessions": 2,
            "sessions_last": 1,
            "sessions_previous": 1,
            "session_minutes_last": 1.5,
            "favourite_game": "mahjong",
            "tenure_days": 18,
            "session_rate_30d": 2 * 30 / 19,
            **NOTHING_AFTER,  # no activity in the horizon after: 0, not null
        }
    )
    assert snapshots[2, "C2"] == pytest.approx(
        {
            "snapshot": 2,
            "snapshot_date": ago(60),
            "customer_id": "C2",
            **NO_PURCHASE,
            "session_recency_days": 0,
            "sessions": 1,
            "sessions_last": 1,
            "sessions_previous": 0,
            "session_minutes_last": 0.0,
            "favourite_game": None,
            "tenure_days": 0,  # first seen after the snapshot's day: 0, not negative
            "session_rate_30d": 30.0,
            **NOTHING_AFTER,
            "future_sessions": 1,
        }
    )


def test_snapshots_of_a_customer_whose_spend_is_partly_unknown(snapshots: dict) -> None:
    # C3 purchase days: - 90 (10.00), - 89 (40.00), - 61 (25.00 and an order without a rate), - 60 (15.00);
    # never seen in core.customers (first_seen null): no tenure and no session rate
    common = {
        "customer_id": "C3",
        "purchases": 5,
        "purchase_days": 4,
        "spend": Decimal("65.00"),  # the day without a known spend is left out
        "spend_per_purchase": 13.0,
        **NO_SESSION,
        "tenure_days": None,
        "session_rate_30d": None,
        "repeat_purchase_days": 3,
        "purchase_span_days": 30,
        "repeat_spend": (65 - 10) / 2,  # the repeat days with a known spend: - 89 and - 60
    }
    assert snapshots[1, "C3"] == pytest.approx(
        {
            **common,
            "snapshot": 1,
            "snapshot_date": ago(30),
            "recency_days": 30,
            "purchases_last": 0,
            "purchases_previous": 4,
            "spend_last": Decimal("0.00"),
            "spend_previous": Decimal("55.00"),
            "purchase_rate_30d": 4 * 30 / 61,
            "purchase_age_days": 60,
            **NOTHING_AFTER,
        }
    )
    assert snapshots[2, "C3"] == pytest.approx(
        {
            **common,
            "snapshot": 2,
            "snapshot_date": ago(60),
            "recency_days": 0,
            "purchases_last": 4,
            "purchases_previous": 1,
            "spend_last": Decimal("55.00"),
            "spend_previous": Decimal("10.00"),
            "purchase_rate_30d": 4 * 30 / 31,
            "purchase_age_days": 30,
            **NOTHING_AFTER,
        }
    )


def test_snapshots_buy_till_you_die_histories(snapshots: dict) -> None:
    # (x, t_x, T, repeat spend) of each payer; the repeat spend averages the repeat days with a known spend
    histories = {
        key: (
            row["repeat_purchase_days"],
            row["purchase_span_days"],
            row["purchase_age_days"],
            row["repeat_spend"],
        )
        for key, row in snapshots.items()
        if row["purchase_days"] > 0
    }
    assert histories == {
        (0, "C1"): (3, 75, 75, 200 / 3),
        (1, "C1"): (1, 45, 45, 30.0),
        (2, "C1"): (0, 0, 15, None),
        (0, "C3"): (3, 30, 90, 27.5),
        (1, "C3"): (3, 30, 60, 27.5),
        (2, "C3"): (3, 30, 30, 27.5),
        (0, "C4"): (2, 7, 10, 25.0),  # both repeat days are known: (20 + 30) / 2
    }


def test_snapshots_outcomes_are_the_horizon_after(snapshots: dict) -> None:
    outcomes = {
        key: (
            row["future_purchases"],
            row["future_purchase_days"],
            row["future_spend"],
            row["future_sessions"],
        )
        for key, row in snapshots.items()
    }
    assert outcomes == {
        (0, "C1"): (None, None, None, None),
        (0, "C2"): (None, None, None, None),
        (0, "C3"): (None, None, None, None),
        (0, "C4"): (None, None, None, None),
        (1, "C1"): (3, 2, Decimal("170.00"), 3),  # period 0
        (1, "C2"): (0, 0, Decimal("0.00"), 0),
        (1, "C3"): (0, 0, Decimal("0.00"), 0),
        (2, "C1"): (1, 1, Decimal("30.00"), 1),  # period 1
        (2, "C2"): (0, 0, Decimal("0.00"), 1),
        (2, "C3"): (0, 0, Decimal("0.00"), 0),
    }
