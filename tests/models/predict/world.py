"""Inputs of the predict models: four customers' orders and sessions on known dates around as_of 2026-03-31.

C1 buys and plays in periods 0, 1 and 2; C2 only plays (periods 1 and 2); C3 buys in periods 2 and 3, one
of its purchase days partly in a currency without a rate; C4's first purchase day (period 0) has no rate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tasks.predict import build_activity_periods as build_periods
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create, local, roll_up

AS_OF = date(2026, 3, 31)
HORIZON = 30
OLDEST = 10  # periods 0..9 kept apart, older ones in period 10 (more than any customer here goes back)


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def snapshot_day(k: int) -> date:
    return AS_OF - timedelta(days=k * HORIZON)


def build_inputs(wh: Warehouse) -> None:
    """core.customers, core.identity_map, core.events (rolled up by build_activity_periods) and features.orders
    of C1..C4."""
    cutoff = wh.cutoff(AS_OF)
    create(
        wh,
        "core.customers",
        "customer_id varchar, first_seen timestamptz",
        [
            ("C1", "2025-06-01 23:30:00+08"),
            ("C2", "2026-02-10 16:30:00+00"),  # 02-11 00:30 in Shanghai: after its first session
            ("C3", None),
            ("C4", "2026-03-20 10:00:00+08"),
        ],
    )
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [
            ("crm", "m1", "C1"),
            ("game", "d1", "C1"),
            ("crm", "m2", "C2"),
            ("crm", "m3", "C3"),
            ("crm", "m4", "C4"),
        ],
    )
    create(
        wh,
        "core.events",
        "record_source varchar, record_id varchar, ts timestamptz, event_type varchar, category varchar, "
        "duration_s double",
        [
            ("crm", "m1", local(ago(0), "23:59:59"), "session", "mahjong", 600.0),  # last second of as_of
            (
                "game",
                "d1",
                datetime(2026, 3, 1, 16, 30, tzinfo=UTC),
                "session",
                "doudizhu",
                300.0,
            ),  # 03-02 local
            ("crm", "m1", local(ago(10)), "session", None, 60.0),
            ("crm", "m1", local(ago(30)), "session", "poker", 120.0),  # as_of - horizon: period 1
            ("crm", "m1", local(ago(65)), "session", "mahjong", 120.0),
            ("crm", "m1", local(ago(70)), "session", "mahjong", 60.0),
            # not sessions, or not before the cutoff: they would make poker C1's period-0 favourite
            ("crm", "m1", local(ago(2)), "share", "poker", None),
            ("crm", "m1", cutoff, "session", "poker", 600.0),
            ("crm", "m1", local(ago(-1)), "session", "poker", 600.0),
            ("crm", "m2", local(ago(59)), "session", "mahjong", 90.0),
            ("crm", "m2", local(ago(60)), "session", None, None),
            ("crm", "m9", local(ago(3)), "session", "poker", 90.0),  # a record not in identity_map
        ],
    )
    create(
        wh,
        "features.orders",
        "customer_id varchar, order_date date, net_amount decimal(38,2), purchase boolean",
        [
            ("C1", ago(0), Decimal("100.00"), True),
            ("C1", ago(0), Decimal("20.00"), True),
            ("C1", ago(5), Decimal("0.00"), False),  # refunded in full: not a purchase
            ("C1", ago(29), Decimal("50.00"), True),
            ("C1", ago(30), Decimal("30.00"), True),
            ("C1", ago(75), Decimal("40.00"), True),
            ("C3", ago(60), Decimal("15.00"), True),
            ("C3", ago(61), Decimal("25.00"), True),
            ("C3", ago(61), None, True),  # no rate: the day's spend is unknown
            ("C3", ago(89), Decimal("40.00"), True),
            ("C3", ago(90), Decimal("10.00"), True),
            ("C4", ago(3), Decimal("30.00"), True),
            ("C4", ago(5), Decimal("20.00"), True),
            ("C4", ago(10), None, True),  # the first purchase day, without a rate
        ],
    )


def build_activity_periods(
    wh: Warehouse, session_types: tuple[str, ...] = ("session",), oldest: int = OLDEST
) -> None:
    """_activity_periods as the predict stage builds it over the events rolled up (sessions: session_types)."""
    roll_up(wh)
    build_periods(wh, AS_OF, HORIZON, oldest, list(session_types))


def build_snapshots(wh: Warehouse, snapshots: list[int]) -> None:
    """_snapshots over _activity_periods."""
    wh.build(
        "_snapshots",
        "predict/snapshots",
        {"as_of": AS_OF, "horizon": HORIZON, "snapshots": snapshots, "sample_share": 1.0, "seed": 0},
        temp=True,
    )
