"""A day published again: whose memberships moved against its first publish."""

from datetime import date

from tasks.publish.republish import KEPT, keep_published, moved_memberships, moved_text
from tasks.shared.warehouse import Warehouse

DAY, OTHER = date(2026, 3, 31), date(2026, 3, 30)
COLUMNS = (
    "as_of date, customer_id varchar, rfm_segment varchar, rfm_cn_class varchar, value_tier varchar, "
    "lifecycle_stage varchar, rule_segments varchar, cluster_id integer, risk_tier varchar, monetary decimal(18, 2)"
)
FIRST = [
    (DAY, "C1", "Champions", "重要价值客户", "high", "active", "vip", 0, "low", 10),
    (DAY, "C2", "Lost", "一般挽留客户", "low", "churned", None, 1, "high", 5),
    (DAY, "C3", None, None, "none", "never_purchased", None, 2, None, None),
    (DAY, "C4", "Lost", "一般挽留客户", "low", "churned", None, 1, "medium", 1),
    (
        OTHER,
        "C9",
        "Lost",
        "一般挽留客户",
        "low",
        "churned",
        None,
        1,
        "medium",
        1,
    ),  # another day: not compared
]


def publish(wh: Warehouse, rows: list[tuple]) -> None:
    wh.execute("create schema if not exists published")
    wh.execute(f"create or replace table published.customer_segments ({COLUMNS})")
    wh.con.executemany(f"insert into published.customer_segments values ({', '.join('?' * 10)})", rows)


def test_the_customers_whose_memberships_moved_are_counted_per_column(wh: Warehouse) -> None:
    publish(wh, FIRST)
    assert keep_published(wh, DAY, "r1") == 4
    publish(
        wh,
        [
            (
                DAY,
                "C1",
                "Champions",
                "重要价值客户",
                "high",
                "active",
                "vip",
                0,
                "low",
                99,
            ),  # monetary is no membership
            (DAY, "C2", "Lost", "一般挽留客户", "low", "churned", "churn_warning", 1, "medium", 5),
            (DAY, "C3", None, None, "none", "never_purchased", None, 3, None, None),
            (DAY, "C5", "New", "一般发展客户", "low", "new", None, 1, "low", 1),  # C4 renamed C5, say
        ],
    )
    moved = moved_memberships(wh, DAY)

    assert moved == {
        "customers": 4,  # C2, C3, and C4 and C5 published once each
        "rfm_segment": 0,
        "rfm_cn_class": 0,
        "value_tier": 0,
        "lifecycle_stage": 0,
        "rule_segments": 1,
        "cluster_id": 1,
        "risk_tier": 1,
    }
    assert moved_text(moved) == "4 customers (cluster_id 1, risk_tier 1, rule_segments 1)"
    assert not wh.table_exists(KEPT)
    assert moved_memberships(wh, DAY) is None  # nothing kept any more


def test_a_day_computed_the_same_moved_nobody(wh: Warehouse) -> None:
    publish(wh, FIRST)
    keep_published(wh, DAY, "r1")
    moved = moved_memberships(wh, DAY)
    assert moved is not None and set(moved.values()) == {0}
    assert moved_text(moved) == "0 customers"


def test_rows_kept_for_another_day_are_not_compared(wh: Warehouse) -> None:
    publish(wh, FIRST)
    keep_published(wh, OTHER, "r1")  # a killed backfill kept OTHER; this one computes DAY without keeping it
    assert moved_memberships(wh, DAY) is None
    assert keep_published(wh, DAY, "r1") == 4  # replaces what was kept


def test_a_resumed_request_compares_with_the_day_before_it_not_with_its_own_recomputation(
    wh: Warehouse,
) -> None:
    # the request kept DAY, computed it (C2's risk tier moved), then failed before reporting (a webhook down)
    publish(wh, FIRST)
    assert keep_published(wh, DAY, "r1") == 4
    recomputed = [row[:8] + ("low",) + row[9:] if row[1] == "C2" else row for row in FIRST]
    publish(wh, recomputed)
    assert keep_published(wh, DAY, "r1") == 4  # resumed: what it kept first stays
    assert moved_memberships(wh, DAY) == {
        "customers": 1,
        "rfm_segment": 0,
        "rfm_cn_class": 0,
        "value_tier": 0,
        "lifecycle_stage": 0,
        "rule_segments": 0,
        "cluster_id": 0,
        "risk_tier": 1,
    }
    keep_published(wh, DAY, "r1")
    assert keep_published(wh, DAY, "r2") == 4  # another request keeps the day as it is now
    assert moved_memberships(wh, DAY)["customers"] == 0
