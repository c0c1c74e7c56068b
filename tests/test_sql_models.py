"""Model tests (after SQLMesh's): each SQL model on a few hand-written input rows, expected rows written out.

Every test runs in an in-memory warehouse (`Warehouse(":memory:")`, time zone Asia/Shanghai) and creates only
the input tables its model reads, with only the columns the model uses. The pure functions behind the models
(`tasks.rfm`, `tasks.dedupe.cluster_records`, `tasks.dedupe.pairwise_scores`) are tested here too, next to
the SQL that must agree with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from hashlib import md5
from itertools import product
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from tasks.config import SegmentConfig
from tasks.dedupe import cluster_records, link_records, pairwise_scores
from tasks.errors import DataError
from tasks.identity import assign_customer_ids
from tasks.publish import AUDITS, run_audits
from tasks.rfm import RFM_SEGMENTS, fm_score, quintile_score, rfm_segment
from tasks.segment import score_params, write_rule_table
from tasks.warehouse import Warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    with Warehouse(":memory:") as warehouse:
        yield warehouse


def create(wh: Warehouse, table: str, columns: str, rows: Sequence[tuple], *, temp: bool = False) -> None:
    """Create table with the given column list and insert rows."""
    wh.execute(f"create or replace {'temp ' if temp else ''}table {table} ({columns})")
    if rows:
        placeholders = ", ".join("?" for _ in rows[0])
        wh.con.executemany(f"insert into {table} values ({placeholders})", [list(r) for r in rows])


def local(day: date, clock: str = "12:00:00") -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime.fromisoformat(f"{day.isoformat()} {clock}").replace(tzinfo=SHANGHAI)


def customer_id(source: str, source_id: str) -> str:
    """The id identity_map derives from a cluster's anchor record."""
    return "C" + md5(f"{source}:{source_id}".encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------------
# features/orders
# ---------------------------------------------------------------------------------------------------------

TRANSACTION_COLUMNS = (
    "source varchar, _file varchar, _row bigint, txn_id varchar, order_id varchar, ts timestamptz, "
    "amount decimal(18,2), status varchar, record_source varchar, record_id varchar"
)
ORDERS_CUTOFF = datetime(2026, 1, 11, tzinfo=SHANGHAI)  # end of as_of 2026-01-10


def txn(
    row: int,
    txn_id: str | None,
    order_id: str | None,
    ts: str,
    amount: str,
    status: str | None = "paid",
    record_id: str = "m1",
) -> tuple:
    return ("pay", "pay.csv", row, txn_id, order_id, ts, Decimal(amount), status, "crm", record_id)


def run_orders(wh: Warehouse, transactions: Sequence[tuple]) -> list[tuple]:
    create(wh, "core.transactions", TRANSACTION_COLUMNS, transactions)
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("crm", "m1", "C1"), ("crm", "m2", "C2")],
    )
    wh.build("features.orders", "features/orders", {"cutoff": ORDERS_CUTOFF})
    return wh.rows(
        "select source, order_key, customer_id, order_ts, order_date, net_amount, transactions "
        "from features.orders order by source, order_key"
    )


def test_orders_refund_is_netted_into_its_order(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o1", "2026-01-01 10:00:00+08", "100.00"),
            txn(2, "t2", "o1", "2026-01-05 10:00:00+08", "-30.00", "refunded"),
        ],
    )
    assert rows == [
        ("pay", "o1", "C1", local(date(2026, 1, 1), "10:00:00"), date(2026, 1, 1), Decimal("70.00"), 2),
    ]


def test_orders_refunded_row_with_positive_amount_counts_as_negative(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o2", "2026-01-02 09:00:00+08", "50.00"),
            txn(2, "t2", "o2", "2026-01-03 09:00:00+08", "20.00", "refunded"),
        ],
    )
    assert rows == [
        ("pay", "o2", "C1", local(date(2026, 1, 2), "09:00:00"), date(2026, 1, 2), Decimal("30.00"), 2),
    ]


def test_orders_failed_and_pending_rows_do_not_count(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o3", "2026-01-02 12:00:00+08", "40.00", "failed"),
            txn(2, "t2", "o3", "2026-01-02 12:05:00+08", "40.00", "paid"),
            txn(3, "t3", "o4", "2026-01-02 13:00:00+08", "25.00", "pending"),
            txn(4, "t4", "o5", "2026-01-02 14:00:00+08", "25.00", "failed"),
        ],
    )
    assert rows == [
        ("pay", "o3", "C1", local(date(2026, 1, 2), "12:05:00"), date(2026, 1, 2), Decimal("40.00"), 1),
    ]


def test_orders_cancelled_after_purchase_nets_to_zero(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o6", "2026-01-04 08:00:00+08", "60.00", record_id="m2"),
            txn(2, "t2", "o6", "2026-01-04 09:00:00+08", "60.00", "cancelled", record_id="m2"),
        ],
    )
    assert rows == [
        ("pay", "o6", "C2", local(date(2026, 1, 4), "08:00:00"), date(2026, 1, 4), Decimal("0.00"), 2),
    ]


def test_orders_are_point_in_time(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o7", "2026-01-10 23:59:59+08", "5.00"),  # last second of as_of: counts
            txn(2, "t2", "o8", "2026-01-11 00:00:00+08", "10.00"),  # at the cutoff: not yet
            txn(3, "t3", "o7", "2026-01-12 09:00:00+08", "-5.00", "refunded"),  # refund after the cutoff
        ],
    )
    assert rows == [
        ("pay", "o7", "C1", local(date(2026, 1, 10), "23:59:59"), date(2026, 1, 10), Decimal("5.00"), 1),
    ]


def test_orders_row_without_order_id_is_its_own_order(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t12", None, "2026-01-06 10:00:00+08", "15.00", None),  # no status counts as paid
            txn(2, "t13", None, "2026-01-06 11:00:00+08", "16.00"),
            txn(3, None, None, "2026-01-06 12:00:00+08", "17.00"),  # neither: keyed by file position
        ],
    )
    assert rows == [
        (
            "pay",
            "pay.csv:3",
            "C1",
            local(date(2026, 1, 6), "12:00:00"),
            date(2026, 1, 6),
            Decimal("17.00"),
            1,
        ),
        ("pay", "t12", "C1", local(date(2026, 1, 6), "10:00:00"), date(2026, 1, 6), Decimal("15.00"), 1),
        ("pay", "t13", "C1", local(date(2026, 1, 6), "11:00:00"), date(2026, 1, 6), Decimal("16.00"), 1),
    ]


def test_order_date_is_the_local_date_in_the_warehouse_time_zone(wh: Warehouse) -> None:
    rows = run_orders(wh, [txn(1, "t1", "o9", "2026-01-01 17:30:00+00", "80.00")])
    assert rows == [
        ("pay", "o9", "C1", datetime(2026, 1, 1, 17, 30, tzinfo=UTC), date(2026, 1, 2), Decimal("80.00"), 1),
    ]


# ---------------------------------------------------------------------------------------------------------
# features/customer_features
# ---------------------------------------------------------------------------------------------------------

AS_OF = date(2026, 3, 31)
FEATURES_CUTOFF = datetime(2026, 4, 1, tzinfo=SHANGHAI)


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


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
        "features.orders",
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
    )
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
    wh.build(
        "features.customer_features",
        "features/customer_features",
        {"as_of": AS_OF, "cutoff": FEATURES_CUTOFF, "session_types": ["session"]},
    )
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
        {"customer_id": "C3", **no_purchase, **no_sessions, "first_seen_date": None},
        {"customer_id": "C4", **no_purchase, **no_sessions, "first_seen_date": AS_OF},
    ]


# ---------------------------------------------------------------------------------------------------------
# segments/rfm_scores and tasks.rfm
# ---------------------------------------------------------------------------------------------------------


def run_rfm_scores(wh: Warehouse, features: Sequence[tuple], **settings: object) -> list[tuple]:
    create(
        wh,
        "features.customer_features",
        "customer_id varchar, recency_days bigint, frequency bigint, monetary decimal(38,2)",
        features,
    )
    write_rule_table(wh)
    wh.build("segments.rfm_scores", "segments/rfm_scores", score_params(SegmentConfig(**settings)))
    return wh.rows("select * from segments.rfm_scores order by customer_id")


RFM_FEATURES = [
    # customer, recency_days, frequency, monetary
    ("c01", 1, 10, Decimal("900.00")),
    ("c02", 1, 1, Decimal("10.00")),
    ("c03", 5, 3, Decimal("50.00")),
    ("c04", 10, 1, Decimal("10.00")),
    ("c05", 20, 2, Decimal("20.00")),
    ("c06", 30, 5, Decimal("300.00")),
    ("c07", 30, 2, Decimal("20.00")),
    ("c08", 30, 1, Decimal("30.00")),
    ("c09", 60, 4, Decimal("120.00")),
    ("c10", 100, 1, Decimal("15.00")),
    ("c11", None, None, None),  # no purchase: not scored
]


def test_rfm_scores_are_quintiles_of_sql_rank_with_ties(wh: Warehouse) -> None:
    # n = 10, score = 1 + floor(5 * (rank - 1) / 10):
    # R (recency desc): 100 r1 -> 1, 60 r2 -> 1, 30 x3 r3 -> 2, 20 r6 -> 3, 10 r7 -> 4, 5 r8 -> 4,
    #                   1 x2 r9 -> 5
    # F (asc): 1 x4 r1 -> 1, 2 x2 r5 -> 3, 3 r7 -> 4, 4 r8 -> 4, 5 r9 -> 5, 10 r10 -> 5
    # M (asc): 10 x2 r1 -> 1, 15 r3 -> 2, 20 x2 r4 -> 2, 30 r6 -> 3, 50 r7 -> 4, 120 r8 -> 4, 300 r9 -> 5,
    #          900 r10 -> 5
    # FM = (F + M + 1) // 2
    assert run_rfm_scores(wh, RFM_FEATURES) == [
        ("c01", 5, 5, 5, 5, "Champions", "冠军客户"),
        ("c02", 5, 1, 1, 1, "New", "新客户"),
        ("c03", 4, 4, 4, 4, "Loyal", "忠诚客户"),
        ("c04", 4, 1, 1, 1, "Promising", "有潜力客户"),
        ("c05", 3, 3, 2, 3, "Need Attention", "需要关注客户"),
        ("c06", 2, 5, 5, 5, "Can't Lose Them", "不能失去的客户"),
        ("c07", 2, 3, 2, 3, "At Risk", "有流失风险客户"),
        ("c08", 2, 1, 3, 2, "Hibernating", "冬眠客户"),
        ("c09", 1, 4, 4, 4, "At Risk", "有流失风险客户"),
        ("c10", 1, 1, 2, 2, "Lost", "已流失客户"),
    ]


def test_rfm_scores_all_equal_values_all_score_one(wh: Warehouse) -> None:
    features = [(f"c{i}", 7, 2, Decimal("50.00")) for i in range(1, 4)]
    assert run_rfm_scores(wh, features) == [
        ("c1", 1, 1, 1, 1, "Lost", "已流失客户"),
        ("c2", 1, 1, 1, 1, "Lost", "已流失客户"),
        ("c3", 1, 1, 1, 1, "Lost", "已流失客户"),
    ]


def test_rfm_scores_most_recent_buyer_gets_highest_r(wh: Warehouse) -> None:
    features = [
        (f"c{i}", recency, 1, Decimal("10.00")) for i, recency in enumerate([0, 3, 9, 27, 81], start=1)
    ]
    assert [(row[0], row[1]) for row in run_rfm_scores(wh, features)] == [
        ("c1", 5),
        ("c2", 4),
        ("c3", 3),
        ("c4", 2),
        ("c5", 1),
    ]


def test_rfm_scores_agree_with_the_python_rules(wh: Warehouse) -> None:
    rows = run_rfm_scores(wh, RFM_FEATURES)
    assert len(rows) == 10
    for customer, r, f, m, fm, name, label_zh in rows:
        segment = rfm_segment(r, f, m)
        assert (customer, fm, name, label_zh) == (customer, fm_score(f, m), segment.name, segment.label_zh)


# The R x FM grid, written out: row = R score 5..1, column = FM score 1..5.
RFM_GRID = {
    5: ["New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"],
    3: ["About To Sleep", "About To Sleep", "Need Attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"],
}


def test_rfm_segments_cover_the_grid_exactly_once() -> None:
    assert len(RFM_SEGMENTS) == 11
    assert len({s.name for s in RFM_SEGMENTS}) == 11
    for r, fm in product(range(1, 6), repeat=2):
        covering = [s.name for s in RFM_SEGMENTS if s.r_min <= r <= s.r_max and s.fm_min <= fm <= s.fm_max]
        assert covering == [RFM_GRID[r][fm - 1]], (r, fm)


def test_every_rfm_score_triple_maps_to_its_grid_segment() -> None:
    names = {}
    for r, f, m in product(range(1, 6), repeat=3):
        names[(r, f, m)] = rfm_segment(r, f, m).name
    assert len(names) == 125
    assert names == {
        (r, f, m): RFM_GRID[r][(f + m + 1) // 2 - 1] for r, f, m in product(range(1, 6), repeat=3)
    }
    assert (rfm_segment(5, 4, 5).name, rfm_segment(3, 2, 3).name, rfm_segment(1, 5, 4).name) == (
        "Champions",
        "Need Attention",
        "Can't Lose Them",
    )


def test_fm_score_is_the_mean_rounded_half_up() -> None:
    assert [
        fm_score(1, 1),
        fm_score(1, 2),
        fm_score(2, 3),
        fm_score(4, 5),
        fm_score(5, 5),
        fm_score(1, 5),
    ] == [
        1,
        2,
        3,
        5,
        5,
        3,
    ]


def test_quintile_score_values() -> None:
    assert [quintile_score(rank, 10) for rank in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [quintile_score(rank, 7) for rank in range(1, 8)] == [1, 1, 2, 3, 3, 4, 5]
    assert [quintile_score(rank, 3) for rank in range(1, 4)] == [1, 2, 4]
    assert quintile_score(1, 1) == 1
    assert quintile_score(1, 1_000_000) == 1
    assert quintile_score(1_000_000, 1_000_000) == 5


@pytest.mark.parametrize(("rank", "n"), [(0, 10), (11, 10), (1, 0), (-1, 5)])
def test_quintile_score_rejects_rank_outside_range(rank: int, n: int) -> None:
    with pytest.raises(ValueError, match=rf"rank {rank} outside 1\.\.{n}"):
        quintile_score(rank, n)


def test_rfm_segment_rejects_scores_outside_the_grid() -> None:
    with pytest.raises(ValueError, match="no RFM segment for R=0, F=3, M=3"):
        rfm_segment(0, 3, 3)
    with pytest.raises(ValueError, match="no RFM segment for R=3, F=6, M=6"):
        rfm_segment(3, 6, 6)


# ---------------------------------------------------------------------------------------------------------
# core/identity_map
# ---------------------------------------------------------------------------------------------------------

COMPONENT_COLUMNS = (
    "record_source varchar, record_id varchar, component bigint, first_seen timestamptz, match_rule varchar, "
    "match_score double"
)


def run_identity_map(wh: Warehouse, components: Sequence[tuple]) -> list[tuple]:
    """identity_map as dedupe_all builds it: ids assigned by tasks.identity (whose state persists in wh).

    components: (record_source, record_id, component, first_seen, match_rule); the score is 1.0 for
    an exact rule and null for a singleton, as tasks.dedupe.link_records gives it.
    """
    scored = [(*row, None if row[4] == "singleton" else 1.0) for row in components]
    create(wh, "record_components", COMPONENT_COLUMNS, scored, temp=True)
    assigned = assign_customer_ids(wh, wh.frame("select * from record_components"), date(2026, 3, 1), "test")
    wh.write_frame("record_components", assigned, temp=True)
    wh.build("core.identity_map", "core/identity_map")
    return wh.rows(
        "select source, source_id, customer_id, match_rule, match_score, cluster_size, first_seen "
        "from core.identity_map order by source, source_id"
    )


def test_identity_map_customer_id_comes_from_the_earliest_record(wh: Warehouse) -> None:
    jan3, jan5 = local(date(2026, 1, 3)), local(date(2026, 1, 5))
    rows = run_identity_map(
        wh,
        [
            # cluster 0: m2 and p9 tie on first_seen; source 'crm' sorts before 'pay'
            ("crm", "m1", 0, jan5, "exact:email"),
            ("crm", "m2", 0, jan3, "exact:email"),
            ("pay", "p9", 0, jan3, "exact:phone"),
            # cluster 1: a record without first_seen counts as known since the beginning
            ("crm", "m3", 1, local(date(2025, 1, 1)), "exact:device_id"),
            ("game", "d1", 1, None, "exact:device_id"),
            # cluster 2: same time and source: the ids compare as text ('m10' < 'm7')
            ("web", "m7", 2, jan3, "exact:email"),
            ("web", "m10", 2, jan3, "exact:email"),
            # cluster 3: a singleton
            ("survey", "s1", 3, jan5, "singleton"),
        ],
    )
    assert rows == [
        ("crm", "m1", customer_id("crm", "m2"), "exact:email", 1.0, 3, jan5),
        ("crm", "m2", customer_id("crm", "m2"), "exact:email", 1.0, 3, jan3),
        (
            "crm",
            "m3",
            customer_id("game", "d1"),
            "exact:device_id",
            1.0,
            2,
            local(date(2025, 1, 1)),
        ),
        ("game", "d1", customer_id("game", "d1"), "exact:device_id", 1.0, 2, None),
        ("pay", "p9", customer_id("crm", "m2"), "exact:phone", 1.0, 3, jan3),
        ("survey", "s1", customer_id("survey", "s1"), "singleton", None, 1, jan5),
        ("web", "m10", customer_id("web", "m10"), "exact:email", 1.0, 2, jan3),
        ("web", "m7", customer_id("web", "m10"), "exact:email", 1.0, 2, jan3),
    ]


def test_identity_map_id_survives_a_later_record_joining(wh: Warehouse) -> None:
    jan1, jan5, feb1 = local(date(2026, 1, 1)), local(date(2026, 1, 5)), local(date(2026, 2, 1))
    first = run_identity_map(
        wh, [("crm", "m1", 0, jan1, "exact:email"), ("pay", "p1", 0, jan5, "exact:email")]
    )
    # the next run: component numbers are arbitrary and a later record joins the cluster
    second = run_identity_map(
        wh,
        [
            ("crm", "m1", 5, jan1, "exact:email"),
            ("pay", "p1", 5, jan5, "exact:email"),
            ("web", "w1", 5, feb1, "exact:phone"),
        ],
    )
    anchor = customer_id("crm", "m1")
    assert [(r[0], r[1], r[2]) for r in first] == [("crm", "m1", anchor), ("pay", "p1", anchor)]
    assert [(r[0], r[1], r[2]) for r in second] == [
        ("crm", "m1", anchor),
        ("pay", "p1", anchor),
        ("web", "w1", anchor),
    ]


def test_identity_map_merged_clusters_keep_the_older_anchor(wh: Warehouse) -> None:
    jan2, jan10, jan12 = (local(date(2026, 1, d)) for d in (2, 10, 12))
    feb1 = local(date(2026, 2, 1))
    first = run_identity_map(
        wh,
        [
            ("crm", "m1", 0, jan10, "exact:email"),
            ("crm", "m2", 0, jan12, "exact:email"),
            ("pay", "p1", 1, jan2, "singleton"),
        ],
    )
    assert [(r[0], r[1], r[2]) for r in first] == [
        ("crm", "m1", customer_id("crm", "m1")),
        ("crm", "m2", customer_id("crm", "m1")),
        ("pay", "p1", customer_id("pay", "p1")),
    ]
    # a new record links both clusters: the one whose anchor was seen first (p1) keeps its id
    second = run_identity_map(
        wh,
        [
            ("crm", "m1", 0, jan10, "exact:email"),
            ("crm", "m2", 0, jan12, "exact:email"),
            ("pay", "p1", 0, jan2, "exact:phone"),
            ("web", "w1", 0, feb1, "exact:email"),
        ],
    )
    merged = customer_id("pay", "p1")
    assert [(r[0], r[1], r[2], r[5]) for r in second] == [
        ("crm", "m1", merged, 4),
        ("crm", "m2", merged, 4),
        ("pay", "p1", merged, 4),
        ("web", "w1", merged, 4),
    ]


# ---------------------------------------------------------------------------------------------------------
# tasks.dedupe.cluster_records and pairwise_scores
# ---------------------------------------------------------------------------------------------------------

T0 = datetime(2025, 12, 1, tzinfo=UTC)


def observations(rows: Sequence[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "record_source": pl.String,
            "record_id": pl.String,
            "email_norm": pl.String,
            "phone_norm": pl.String,
            "device_id": pl.String,
            "first_seen": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


def clusters_of(result: pl.DataFrame) -> list[list[str]]:
    """The partition as sorted lists of 'source:id', ordered by their first member."""
    groups: dict[int, list[str]] = {}
    for row in result.iter_rows(named=True):
        groups.setdefault(row["component"], []).append(f"{row['record_source']}:{row['record_id']}")
    return sorted(sorted(g) for g in groups.values())


def rules_of(result: pl.DataFrame) -> list[tuple]:
    return sorted(result.select("record_source", "record_id", "match_rule", "first_seen").iter_rows())


def test_cluster_records_merges_transitively_and_names_the_rule() -> None:
    result, overshared = cluster_records(
        observations(
            [
                ("crm", "a", "a@x.com", None, None, T0 + timedelta(days=1)),
                ("crm", "a", None, None, None, T0),  # a second observation, earlier
                ("crm", "b", "a@x.com", "+8613800138001", None, T0 + timedelta(days=2)),
                ("pay", "c", None, "+8613800138001", None, T0 + timedelta(days=3)),
                ("game", "d", None, None, "dev1", T0 + timedelta(days=4)),
                ("game", "e", None, None, "dev1", None),
                ("game", "e", None, None, "dev1", T0),  # one undated observation makes the record undated
                ("web", "f", None, None, None, T0 + timedelta(days=5)),
            ]
        ),
        max_key_records=20,
    )
    assert overshared == []
    assert result.columns == ["record_source", "record_id", "component", "first_seen", "match_rule"]
    assert clusters_of(result) == [["crm:a", "crm:b", "pay:c"], ["game:d", "game:e"], ["web:f"]]
    assert rules_of(result) == [
        ("crm", "a", "exact:email", T0),
        ("crm", "b", "exact:email", T0 + timedelta(days=2)),  # shares email and phone: email wins
        ("game", "d", "exact:device_id", T0 + timedelta(days=4)),
        ("game", "e", "exact:device_id", None),
        ("pay", "c", "exact:phone", T0 + timedelta(days=3)),
        ("web", "f", "singleton", T0 + timedelta(days=5)),
    ]


def test_cluster_records_phone_is_preferred_over_device_id() -> None:
    result, _ = cluster_records(
        observations(
            [
                ("crm", "a", None, "+8613800138001", "dev1", T0),
                ("crm", "b", None, "+8613800138001", "dev1", T0),
                ("crm", "c", None, None, "dev1", T0),
            ]
        ),
        max_key_records=20,
    )
    assert clusters_of(result) == [["crm:a", "crm:b", "crm:c"]]
    assert rules_of(result) == [
        ("crm", "a", "exact:phone", T0),
        ("crm", "b", "exact:phone", T0),
        ("crm", "c", "exact:device_id", T0),
    ]


def test_cluster_records_does_not_match_on_an_overshared_key() -> None:
    result, overshared = cluster_records(
        observations(
            [
                # a family phone on three records (over the limit of 2): not used
                ("crm", "x", None, "+8613900139000", None, T0),
                ("crm", "y", None, "+8613900139000", None, T0),
                ("crm", "z", "z@x.com", "+8613900139000", None, T0),
                # a device on exactly two records (at the limit): used
                ("game", "p", None, None, "dev7", T0),
                ("game", "q", "z@x.com", None, "dev7", T0),
            ]
        ),
        max_key_records=2,
    )
    assert overshared == ["phone_norm=+8613900139000 (3 records)"]
    assert clusters_of(result) == [["crm:x"], ["crm:y"], ["crm:z", "game:p", "game:q"]]
    assert rules_of(result) == [
        ("crm", "x", "singleton", T0),
        ("crm", "y", "singleton", T0),
        ("crm", "z", "exact:email", T0),
        ("game", "p", "exact:device_id", T0),
        ("game", "q", "exact:email", T0),
    ]


def test_cluster_records_reports_overshared_keys_in_a_stable_order() -> None:
    # ten keys, each on three records; written in reverse so that insertion order is not the expected order
    rows = [
        ("crm", f"r{k}_{i}", f"e{k}@x.com", None, None, T0) for k in reversed(range(10)) for i in range(3)
    ]
    _, overshared = cluster_records(observations(rows), max_key_records=2)
    assert overshared == [f"email_norm=e{k}@x.com (3 records)" for k in range(10)]


def test_cluster_records_without_any_shared_key() -> None:
    result, overshared = cluster_records(
        observations([("crm", "a", "a@x.com", None, None, T0), ("crm", "b", None, None, None, None)]),
        max_key_records=20,
    )
    assert overshared == []
    assert clusters_of(result) == [["crm:a"], ["crm:b"]]
    assert rules_of(result) == [("crm", "a", "singleton", T0), ("crm", "b", "singleton", None)]


def test_linked_records_feed_identity_map(wh: Warehouse) -> None:
    result = link_records(
        observations(
            [
                ("crm", "b", "a@x.com", None, None, T0 + timedelta(days=2)),
                ("pay", "a", "a@x.com", None, None, T0 + timedelta(days=1)),
                ("web", "c", None, None, None, T0),
            ]
        ),
        max_key_records=20,
    ).records
    wh.write_frame("record_components", assign_customer_ids(wh, result, date(2026, 3, 1), "test"), temp=True)
    wh.build("core.identity_map", "core/identity_map")
    assert wh.rows(
        "select source, source_id, customer_id, match_rule, match_score, cluster_size from core.identity_map "
        "order by all"
    ) == [
        ("crm", "b", customer_id("pay", "a"), "exact:email", 1.0, 2),
        ("pay", "a", customer_id("pay", "a"), "exact:email", 1.0, 2),
        ("web", "c", customer_id("web", "c"), "singleton", None, 1),
    ]


def test_pairwise_scores_hand_computed() -> None:
    predicted = pl.DataFrame({"item": ["a", "b", "c", "d", "e", "z"], "cluster": [1, 1, 1, 2, 2, 3]})
    truth = pl.DataFrame({"item": ["a", "b", "c", "d", "e", "y"], "entity": ["A", "A", "A", "A", "B", "C"]})
    # predicted pairs: {a,b,c} -> 3, {d,e} -> 1 = 4; true pairs: {a,b,c,d} -> 6; correct: ab, ac, bc = 3
    # z and y are each in one side only and are ignored
    assert pairwise_scores(predicted, truth) == {
        "items": 5,
        "precision": 0.75,
        "recall": 0.5,
        "f1": 0.6,
        "true_pairs": 6,
        "predicted_pairs": 4,
        "correct_pairs": 3,
    }


def test_pairwise_scores_without_pairs() -> None:
    predicted = pl.DataFrame({"item": ["a", "b"], "cluster": [1, 2]})
    truth = pl.DataFrame({"item": ["a", "b"], "entity": ["A", "A"]})
    assert pairwise_scores(predicted, truth) == {
        "items": 2,
        "precision": 1.0,
        "recall": 0.0,
        "f1": 0.0,
        "true_pairs": 1,
        "predicted_pairs": 0,
        "correct_pairs": 0,
    }


# ---------------------------------------------------------------------------------------------------------
# audits (through tasks.publish.run_audits)
# ---------------------------------------------------------------------------------------------------------

AUDIT_AS_OF = date(2026, 3, 31)


SCHEME_COLUMNS = (
    "rfm_segment_zh varchar, rfm_cn_class varchar, rfm_cn_class_en varchar, value_tier varchar, "
    "lifecycle_stage varchar, cluster_name varchar, cluster_name_zh varchar"
)


def good_publish_inputs(wh: Warehouse) -> None:
    write_rule_table(wh)  # segments.rfm_fallback: the segment of customers without a purchase
    create(
        wh,
        "segments.customer_segments",
        "as_of date, customer_id varchar, frequency bigint, "
        "r_score integer, f_score integer, m_score integer, rfm_segment varchar, cluster_id integer, "
        + SCHEME_COLUMNS,
        [
            (AUDIT_AS_OF, "C1", 3, 5, 4, 4, "Champions", 0, "冠军客户", "重要价值客户", "Important Value")
            + ("high", "active", "frequent high-spending customers", "高频高消费客户"),
            # no purchase: no scores, the fallback segment of both RFM schemes, still a cluster
            (
                AUDIT_AS_OF,
                "C2",
                None,
                None,
                None,
                None,
                "No Purchase",
                1,
                "未购买客户",
                "未购买客户",
                "No Purchase",
            )
            + ("none", "never_purchased", "rarely playing customers", "少玩客户"),
        ],
    )
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("crm", "m1", "C1"), ("pay", "m1", "C1"), ("crm", "m2", "C2")],
    )
    create(
        wh,
        "core.customer_records",
        "source varchar, source_id varchar, seen_ts timestamptz",
        [
            ("crm", "m1", local(AUDIT_AS_OF)),
            ("crm", "m2", None),
            ("crm", "m3", local(AUDIT_AS_OF + timedelta(1))),
        ],
    )
    create(
        wh,
        "core.customer_ids",
        "customer_id varchar, status varchar, merged_into varchar",
        [("C1", "active", None), ("C2", "active", None), ("C0", "merged", "C1")],
    )
    wh.build_view("core.customer_id_redirects", "core/customer_id_redirects")


def failed_audits(wh: Warehouse) -> list[tuple[str, str]]:
    with pytest.raises(DataError) as caught:
        run_audits(wh, AUDIT_AS_OF)
    message = str(caught.value)
    assert message.startswith("audits failed, nothing was published:\n")
    return re.findall(r"^  (\w+): (\d+) offending rows", message, flags=re.MULTILINE)


def test_audits_pass_on_good_input(wh: Warehouse) -> None:
    assert AUDITS == [
        "customer_ids_resolve_to_active",
        "customer_segments_every_scheme",
        "customer_segments_keys_present",
        "customer_segments_one_row_per_customer",
        "customer_segments_scores_valid",
        "identity_map_covers_customer_records",
        "identity_map_one_row_per_record",
    ]
    good_publish_inputs(wh)
    assert run_audits(wh, AUDIT_AS_OF) is None
    assert [wh.audit(name, {"as_of": AUDIT_AS_OF}) for name in AUDITS] == [[], [], [], [], [], [], []]


BAD_INPUTS = {
    "customer id missing": (
        "insert into segments.customer_segments "
        "select * replace (null as customer_id) from segments.customer_segments where customer_id = 'C2'",
        ["customer_segments_keys_present"],
    ),
    "other as_of": (
        "update segments.customer_segments set as_of = '2026-03-30' where customer_id = 'C2'",
        ["customer_segments_keys_present"],
    ),
    "customer twice": (
        "insert into segments.customer_segments select * from segments.customer_segments where customer_id = 'C1'",
        ["customer_segments_one_row_per_customer"],
    ),
    "score out of range": (
        "update segments.customer_segments set r_score = 6 where customer_id = 'C1'",
        ["customer_segments_scores_valid"],
    ),
    "purchase without segment": (
        "update segments.customer_segments set rfm_segment = null where customer_id = 'C1'",
        ["customer_segments_every_scheme", "customer_segments_scores_valid"],
    ),
    "purchase without cluster": (
        "update segments.customer_segments set cluster_id = null where customer_id = 'C1'",
        ["customer_segments_every_scheme", "customer_segments_scores_valid"],
    ),
    "score without purchase": (
        "update segments.customer_segments set r_score = 1 where customer_id = 'C2'",
        ["customer_segments_scores_valid"],
    ),
    "no purchase outside the fallback segment": (
        "update segments.customer_segments set rfm_segment = 'Lost' where customer_id = 'C2'",
        ["customer_segments_scores_valid"],
    ),
    "no purchase without a segment": (
        "update segments.customer_segments set rfm_segment = null where customer_id = 'C2'",
        ["customer_segments_every_scheme", "customer_segments_scores_valid"],
    ),
    "no Chinese class": (
        "update segments.customer_segments set rfm_cn_class = null where customer_id = 'C2'",
        ["customer_segments_every_scheme"],
    ),
    "no cluster name": (
        "update segments.customer_segments set cluster_name_zh = null where customer_id = 'C2'",
        ["customer_segments_every_scheme"],
    ),
    "no lifecycle stage": (
        "update segments.customer_segments set lifecycle_stage = null where customer_id = 'C1'",
        ["customer_segments_every_scheme"],
    ),
    "record mapped twice": (
        "insert into core.identity_map values ('crm', 'm1', 'C2')",
        ["identity_map_one_row_per_record"],
    ),
    "record mapped to no customer": (
        "insert into core.identity_map values ('crm', 'm9', null)",
        ["identity_map_one_row_per_record"],
    ),
    # m3 is seen after as_of: it may be missing; m4 may not
    "customer record seen by as_of missing from identity_map": (
        "insert into core.customer_records values ('web', 'm4', '2026-03-31 23:59:59+08')",
        ["identity_map_covers_customer_records"],
    ),
    "merge chain ending at a merged id": (
        "update core.customer_ids set status = 'merged', merged_into = 'C9' where customer_id = 'C2'",
        ["customer_ids_resolve_to_active"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_audit_fails_on_bad_input(wh: Warehouse, case: str) -> None:
    statement, audits = BAD_INPUTS[case]
    good_publish_inputs(wh)
    wh.execute(statement)
    assert failed_audits(wh) == [(audit, "1") for audit in audits]


def test_audit_message_shows_an_offending_row(wh: Warehouse) -> None:
    good_publish_inputs(wh)
    wh.execute("insert into core.identity_map values ('crm', 'm1', 'C2')")
    with pytest.raises(DataError) as caught:
        run_audits(wh, AUDIT_AS_OF)
    assert str(caught.value) == (
        "audits failed, nothing was published:\n"
        "  identity_map_one_row_per_record: 1 offending rows, e.g. "
        "{'source': 'crm', 'source_id': 'm1', 'rows': 2, 'customers': 2}"
    )


def test_audit_catches_a_null_score_of_a_purchasing_customer(wh: Warehouse) -> None:
    good_publish_inputs(wh)
    wh.execute("update segments.customer_segments set r_score = null where customer_id = 'C1'")
    assert failed_audits(wh) == [("customer_segments_scores_valid", "1")]
