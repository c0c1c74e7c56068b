"""Model tests of features/customer_features: RFM inputs, activity windows, preferences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tasks.features import currency_params, customer_features_into, drop_stale_parts, parts_table
from tasks.features.customer_activity import build_customer_activity
from tasks.shared.config.pipeline import CurrencyConfig
from tasks.shared.shards import ALL, NONE, fragments
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, create, local

AS_OF = date(2026, 3, 31)


FEATURES_CUTOFF = datetime(2026, 4, 1, tzinfo=SHANGHAI)


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def build_customer_features(wh: Warehouse) -> None:
    """The daily roll-up of core.events (features/daily_activity), the customers' activity, customer_features."""
    params = {"as_of": AS_OF, "cutoff": FEATURES_CUTOFF, "session_types": ["session"], "undated": True}
    wh.build("features.daily_activity", "features/daily_activity", identifiers={"events": "core.events"})
    wh.ensure("core/fact_observations")
    build_customer_activity(wh, params["as_of"], params["session_types"])
    wh.build(
        "features.customer_features",
        "features/customer_features",
        params,
        identifiers={"activity": "features.customer_activity"},
        fragments=ALL,
    )


def run_customer_features(wh: Warehouse) -> list[dict]:
    """C1 buys and plays, C2 only plays, C3's only order nets to 0, C4 has nothing at all."""
    create(
        wh,
        "core.customers",
        "customer_id varchar, first_seen timestamptz, marketing_consent boolean",
        [
            ("C1", "2025-06-01 23:30:00+08", True),
            ("C2", "2025-06-01 16:30:00+00", False),  # 2025-06-02 00:30 in Shanghai
            ("C3", None, False),
            ("C4", "2026-03-31 10:00:00+08", False),
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
    # features.orders as the orders model builds it: already cut off, one row per order with its net amount.
    create(
        wh,
        "_orders",
        "customer_id varchar, order_date date, net_amount decimal(38,2)",
        [
            ("C1", ago(0), Decimal("100.00")),
            ("C1", ago(5), Decimal("0.00")),  # fully refunded: not a purchase
            ("C1", ago(29), Decimal("50.00")),
            ("C1", ago(30), Decimal("20.00")),
            ("C1", ago(89), Decimal("10.00")),
            ("C1", ago(90), Decimal("5.00")),
            ("C1", ago(179), Decimal("3.00")),
            ("C1", ago(180), Decimal("2.00")),
            ("C3", ago(5), Decimal("0.00")),
        ],
        temp=True,
    )
    wh.execute("create table features.orders as select *, net_amount > 0 as purchase from _orders")
    events = [
        # (record_source, record_id, ts, event_type, category, duration_s)
        ("crm", "m1", local(ago(0), "23:59:59"), "session", "mahjong", 600.0),
        ("game", "d1", datetime(2026, 3, 1, 16, 30, tzinfo=UTC), "session", "doudizhu", 300.0),  # 03-02 local
        ("crm", "m1", local(ago(30)), "session", "mahjong", 120.0),
        ("game", "d1", local(ago(89)), "session", "doudizhu", 180.0),
        ("crm", "m1", local(ago(90)), "session", None, 60.0),
        ("crm", "m1", local(ago(179)), "session", None, 60.0),
        ("crm", "m1", local(ago(180)), "session", None, 60.0),
        ("crm", "m1", local(ago(1)), "share", "poker", None),  # not a session: engagement only
        ("crm", "m1", local(ago(2)), "share", "poker", None),
        # at and after the cutoff: ignored (they would break the mahjong/doudizhu tie and add sessions)
        ("crm", "m1", FEATURES_CUTOFF, "session", "mahjong", 600.0),
        ("crm", "m1", local(date(2026, 4, 2)), "session", "mahjong", 600.0),
        ("crm", "m2", local(ago(3)), "session", "poker", 90.0),
        ("crm", "m9", local(ago(3)), "session", "poker", 90.0),  # a record not in identity_map
        ("crm", "m3", local(ago(2)), "like", "poker", None),  # an engagement in a category is not a play
    ]
    create(
        wh,
        "core.events",
        "record_source varchar, record_id varchar, ts timestamptz, event_type varchar, category varchar, "
        "duration_s double",
        events,
    )
    create(
        wh,
        "core.feedback",
        "record_source varchar, record_id varchar, ts timestamptz, score double",
        [
            ("crm", "m1", local(ago(10)), 4.0),
            ("game", "d1", local(ago(20)), 5.0),
            ("crm", "m1", FEATURES_CUTOFF, 1.0),  # at the cutoff: ignored
        ],
    )
    # which records were seen in transactions, events and feedback, and since when (dedupe keeps it)
    create(
        wh,
        "core.fact_observations",
        "record_source varchar, record_id varchar, email_norm varchar, phone_norm varchar, device_id varchar, "
        "first_seen timestamptz",
        [
            ("crm", "m3", None, None, None, local(ago(5))),  # C3's order, the earliest of its facts
            ("crm", "m3", "c3@example.com", None, None, local(ago(2))),
            ("crm", "m4", None, None, None, local(ago(40))),  # C4 is dated: its own first_seen holds
        ],
    )
    build_customer_features(wh)
    return wh.dicts("select * from features.customer_features order by customer_id")


def test_customer_features_of_a_buying_playing_customer(wh: Warehouse) -> None:
    c1 = run_customer_features(wh)[0]
    assert c1 == {
        "customer_id": "C1",
        "as_of": AS_OF,
        "recency_days": 0,
        "frequency": 7,
        "monetary": Decimal("190.00"),
        "first_purchase_date": ago(180),
        "last_purchase_date": AS_OF,
        # (as_of - 30, as_of]: 29 days before is in, 30 days before is out; the 0-net order never counts
        "payments_30d": 2,
        "payments_90d": 4,
        "payments_180d": 6,
        "sessions_30d": 2,
        "sessions_90d": 4,
        "sessions_180d": 6,
        "sessions_total": 7,
        "last_session_date": AS_OF,
        "session_minutes_90d": (600 + 300 + 120 + 180) / 60,
        "favourite_game": "doudizhu",  # 2 doudizhu, 2 mahjong: alphabetical first
        "engagements_total": 2,
        "last_active_date": AS_OF,
        "avg_feedback_score": 4.5,
        "feedback_count": 2,
        "first_seen_date": date(2025, 6, 1),
        "marketing_consent": True,
    }


def test_customer_features_without_a_purchase_have_null_rfm(wh: Warehouse) -> None:
    rows = run_customer_features(wh)[1:]
    no_purchase = {
        "as_of": AS_OF,
        "recency_days": None,
        "frequency": None,
        "monetary": None,
        "first_purchase_date": None,
        "last_purchase_date": None,
        "payments_30d": 0,
        "payments_90d": 0,
        "payments_180d": 0,
        "avg_feedback_score": None,
        "feedback_count": 0,
        "marketing_consent": False,
    }
    no_sessions = {
        "sessions_30d": 0,
        "sessions_90d": 0,
        "sessions_180d": 0,
        "sessions_total": 0,
        "last_session_date": None,
        "session_minutes_90d": 0,
        "favourite_game": None,
        "engagements_total": 0,
        "last_active_date": None,
    }
    assert rows == [
        {
            "customer_id": "C2",
            **no_purchase,
            "sessions_30d": 1,
            "sessions_90d": 1,
            "sessions_180d": 1,
            "sessions_total": 1,
            "last_session_date": ago(3),
            "session_minutes_90d": 1.5,
            "favourite_game": "poker",
            "engagements_total": 0,
            "last_active_date": ago(3),
            "first_seen_date": date(2025, 6, 2),  # the local date of 16:30 UTC
        },
        # C3's only order nets to 0: no purchase, so no R, F, M and no purchase dates
        # and C3's only event is an engagement: no favourite game
        # and C3's record has no time: first seen on its first fact (the order)
        {
            "customer_id": "C3",
            **no_purchase,
            **no_sessions,
            "engagements_total": 1,
            "last_active_date": ago(2),
            "first_seen_date": ago(5),
        },
        {"customer_id": "C4", **no_purchase, **no_sessions, "first_seen_date": AS_OF},
    ]


def test_monetary_leaves_out_orders_without_a_rate_but_counts_them_as_purchases(wh: Warehouse) -> None:
    create(
        wh,
        "core.customers",
        "customer_id varchar, first_seen timestamptz, marketing_consent boolean",
        [("C1", "2025-06-01 23:30:00+08", True), ("C2", "2025-06-01 23:30:00+08", True)],
    )
    create(wh, "core.identity_map", "source varchar, source_id varchar, customer_id varchar", [])
    for kind in ("events", "feedback"):
        create(
            wh,
            f"core.{kind}",
            "record_source varchar, record_id varchar, ts timestamptz, "
            "event_type varchar, category varchar, duration_s double, score double",
            [],
        )
    create(
        wh,
        "features.orders",
        "customer_id varchar, order_date date, net_amount decimal(38,2), purchase boolean",
        [
            ("C1", ago(1), Decimal("100.00"), True),
            ("C1", ago(2), None, True),  # in a currency without a rate
            ("C2", ago(3), None, True),  # only such orders: monetary 0, never another currency's sum
        ],
    )
    build_customer_features(wh)
    assert wh.rows(
        "select customer_id, frequency, monetary, recency_days from features.customer_features order by 1"
    ) == [("C1", 2, Decimal("100.00"), 1), ("C2", 1, Decimal("0.00"), 3)]


def test_shards_together_are_the_customer_features_each_customer_in_one(wh: Warehouse) -> None:
    whole = run_customer_features(wh)
    params = {
        "as_of": AS_OF,
        "cutoff": FEATURES_CUTOFF,
        "session_types": ["session"],
        **currency_params(CurrencyConfig()),
    }
    left = parts_table()  # a killed run's work table
    assert customer_features_into(wh, left, params, NONE) == 0
    assert drop_stale_parts(wh) == [left]
    assert not wh.table_exists(left)
    for n in (2, 3):
        parts = parts_table()
        assert customer_features_into(wh, parts, params, NONE) == 0  # the empty work table
        added = [customer_features_into(wh, parts, params, fragments(k, n)) for k in range(n)]
        assert sum(added) == 4
        assert wh.scalar(f"select count(distinct customer_id) from {parts}") == 4
        customer_features_into(wh, parts, params, fragments(n - 1, n))  # a shard computed twice
        rows = wh.build("_from_shards", "ops/rows_from_shards", temp=True, identifiers={"parts": parts})
        assert rows == 4
        assert wh.dicts("select * from _from_shards order by customer_id") == whole, n
        wh.execute("drop table _from_shards")
    # the hash split: C1..C4 over two shards, none empty here
    assert [
        k
        for k in range(2)
        if wh.scalar(f"select count(*) from core.customers where {fragments(k, 2)['shard']}")
    ] == [0, 1]


def test_a_shard_whose_work_table_is_gone_adds_nothing_and_fails_not(wh: Warehouse) -> None:
    from tasks.features import customer_features_shard
    from tasks.shared.config import PipelineConfig
    from tests.sources import CRM_CSV

    run_customer_features(wh)
    pipeline = PipelineConfig.model_validate({"warehouse": "x.duckdb", "sources": [CRM_CSV]})
    parts = parts_table()  # never made: the stage went on without this shard and dropped its table
    assert customer_features_shard(wh, pipeline, AS_OF, 0, 2, parts) == 0
    assert not wh.table_exists(parts)
    customer_features_into(
        wh,
        parts,
        {"as_of": AS_OF, "cutoff": FEATURES_CUTOFF, "session_types": ["session"]}
        | currency_params(CurrencyConfig()),
        NONE,
    )
    # a shard reads the customers' activity the stage brought to its day: not another day's
    state = {"version": 1, "settings": "s", "as_of": AS_OF, "half_life_days": 30.0, "play_epoch": AS_OF}
    state |= {"generation": 1, "rollup_rows": 1}
    wh.build("features.customer_activity_state", "features/customer_activity_state", state)
    with pytest.raises(ValueError, match="features.customer_activity holds 2026-03-31, not 2026-04-01"):
        customer_features_shard(wh, pipeline, date(2026, 4, 1), 0, 2, parts)
    assert (
        customer_features_shard(wh, pipeline, AS_OF, 0, 2, parts)
        + customer_features_shard(wh, pipeline, AS_OF, 1, 2, parts)
        == 4
    )
