"""Model tests of predict/activity_periods: purchases and sessions per customer and period of `horizon` days."""

from __future__ import annotations

from decimal import Decimal

from tasks.shared.warehouse import Warehouse
from tests.models.helpers import local
from tests.models.predict.world import ago, build_activity_periods, build_inputs

NO_PURCHASE = {
    "purchase_days": 0,
    "purchases": 0,
    "spend": None,
    "priced_purchase_days": 0,
    "first_purchase_date": None,
    "last_purchase_date": None,
    "first_day_spend": None,
}
NO_SESSION = {"sessions": 0, "session_minutes": 0, "last_session_date": None, "favourite_game": None}


def periods(wh: Warehouse) -> list[dict]:
    build_inputs(wh)
    build_activity_periods(wh)
    return wh.dicts("select * from _activity_periods order by customer_id, period")


def test_activity_periods_rows(wh: Warehouse) -> None:
    assert periods(wh) == [
        {
            # period 0 is (as_of - 30, as_of]: as_of - 29 (03-02 in Shanghai, 03-01 in UTC) is in it
            "customer_id": "C1",
            "period": 0,
            "purchase_days": 2,  # as_of (two orders) and as_of - 29; the refunded order is no purchase
            "purchases": 3,
            "spend": Decimal("170.00"),
            "priced_purchase_days": 2,
            "first_purchase_date": ago(29),
            "last_purchase_date": ago(0),
            "first_day_spend": Decimal("50.00"),
            "sessions": 3,  # the share, the session at the cutoff and the one after it are left out
            "session_minutes": (600 + 300 + 60) / 60,
            "last_session_date": ago(0),
            "favourite_game": "doudizhu",  # one doudizhu, one mahjong: the alphabetically first
        },
        {
            # as_of - 30 is the last day of period 1
            "customer_id": "C1",
            "period": 1,
            "purchase_days": 1,
            "purchases": 1,
            "spend": Decimal("30.00"),
            "priced_purchase_days": 1,
            "first_purchase_date": ago(30),
            "last_purchase_date": ago(30),
            "first_day_spend": Decimal("30.00"),
            "sessions": 1,
            "session_minutes": 2.0,
            "last_session_date": ago(30),
            "favourite_game": "poker",
        },
        {
            "customer_id": "C1",
            "period": 2,
            "purchase_days": 1,
            "purchases": 1,
            "spend": Decimal("40.00"),
            "priced_purchase_days": 1,
            "first_purchase_date": ago(75),
            "last_purchase_date": ago(75),
            "first_day_spend": Decimal("40.00"),
            "sessions": 2,
            "session_minutes": 3.0,
            "last_session_date": ago(65),
            "favourite_game": "mahjong",
        },
        {
            "customer_id": "C2",
            "period": 1,
            **NO_PURCHASE,
            "sessions": 1,
            "session_minutes": 1.5,
            "last_session_date": ago(59),
            "favourite_game": "mahjong",
        },
        {
            # a session without a game or a duration: counted, no minutes, no favourite
            "customer_id": "C2",
            "period": 2,
            **NO_PURCHASE,
            "sessions": 1,
            "session_minutes": 0,
            "last_session_date": ago(60),
            "favourite_game": None,
        },
        {
            # as_of - 61 has an order without a rate: that day's spend is unknown (not 25.00)
            "customer_id": "C3",
            "period": 2,
            "purchase_days": 3,
            "purchases": 4,
            "spend": Decimal("55.00"),
            "priced_purchase_days": 2,
            "first_purchase_date": ago(89),
            "last_purchase_date": ago(60),
            "first_day_spend": Decimal("40.00"),
            **NO_SESSION,
        },
        {
            "customer_id": "C3",
            "period": 3,
            "purchase_days": 1,
            "purchases": 1,
            "spend": Decimal("10.00"),
            "priced_purchase_days": 1,
            "first_purchase_date": ago(90),
            "last_purchase_date": ago(90),
            "first_day_spend": Decimal("10.00"),
            **NO_SESSION,
        },
        {
            # the first purchase day has no rate: its spend is unknown, not the next day's 20.00
            "customer_id": "C4",
            "period": 0,
            "purchase_days": 3,
            "purchases": 3,
            "spend": Decimal("50.00"),
            "priced_purchase_days": 2,
            "first_purchase_date": ago(10),
            "last_purchase_date": ago(3),
            "first_day_spend": None,
            **NO_SESSION,
        },
    ]


def c1_period_0(wh: Warehouse) -> tuple:
    return wh.rows(
        "select sessions, favourite_game from _activity_periods where customer_id = 'C1' and period = 0"
    )[0]


def add_session(wh: Warehouse, category: str) -> None:
    wh.execute(
        "insert into core.events values ('crm', 'm1', ?, 'session', ?, 60.0)", [local(ago(1)), category]
    )


def test_activity_periods_favourite_game_is_the_most_played_then_the_alphabetically_first(
    wh: Warehouse,
) -> None:
    build_inputs(wh)
    add_session(wh, "poker")
    add_session(wh, "mahjong")
    build_activity_periods(wh)
    assert c1_period_0(wh) == (5, "mahjong")  # mahjong 2, doudizhu 1, poker 1
    add_session(wh, "doudizhu")
    build_activity_periods(wh)
    assert c1_period_0(wh) == (6, "doudizhu")  # mahjong 2, doudizhu 2


def test_activity_periods_count_every_event_type_of_session_types(wh: Warehouse) -> None:
    build_inputs(wh)
    build_activity_periods(wh, ("session", "share"))
    assert c1_period_0(wh) == (4, "doudizhu")  # the share of poker at as_of - 2 counts; it has no duration


def test_periods_older_than_oldest_are_one_period_with_their_sums(wh: Warehouse) -> None:
    kept_apart = periods(wh)
    build_activity_periods(wh, oldest=1)  # period 0 apart, everything older in period 1
    lumped = wh.dicts("select * from _activity_periods order by customer_id, period")
    assert {row["period"] for row in lumped} <= {0, 1}
    assert [row for row in lumped if row["period"] == 0] == [row for row in kept_apart if row["period"] == 0]
    for customer in {row["customer_id"] for row in kept_apart}:
        older = [row for row in kept_apart if row["customer_id"] == customer and row["period"] >= 1]
        one = [row for row in lumped if row["customer_id"] == customer and row["period"] == 1]
        assert len(one) == (1 if older else 0)
        if older:
            assert one[0]["sessions"] == sum(row["sessions"] for row in older)
            assert one[0]["purchase_days"] == sum(row["purchase_days"] for row in older)
            assert one[0]["first_purchase_date"] == min(
                (row["first_purchase_date"] for row in older if row["first_purchase_date"]), default=None
            )
            assert one[0]["last_session_date"] == max(
                (row["last_session_date"] for row in older if row["last_session_date"]), default=None
            )
