"""The Chinese 8-class RFM scheme, value tiers and lifecycle stages, at their boundaries."""

import re
from datetime import date
from itertools import product

import pytest
from pydantic import ValidationError

from tasks.config import SegmentConfig
from tasks.rfm import CN_RFM_CLASSES, cn_rfm_class
from tasks.segment import lifecycle_params, write_rule_table
from tasks.warehouse import Warehouse

AS_OF = date(2026, 3, 31)


@pytest.fixture
def wh() -> Warehouse:
    warehouse = Warehouse(":memory:")
    yield warehouse
    warehouse.close()


@pytest.mark.parametrize(
    ("scores", "label"),
    [
        ((3, 3, 3), "重要价值客户"),  # exactly at the threshold counts as high
        ((2, 3, 3), "重要保持客户"),
        ((3, 2, 3), "重要发展客户"),
        ((2, 2, 3), "重要挽留客户"),
        ((5, 5, 2), "一般价值客户"),
        ((1, 4, 1), "一般保持客户"),
        ((4, 1, 2), "一般发展客户"),
        ((1, 1, 1), "一般挽留客户"),
    ],
)
def test_cn_rfm_class_at_the_threshold(scores: tuple[int, int, int], label: str) -> None:
    assert cn_rfm_class(*scores).label_zh == label


def test_every_score_triple_has_exactly_one_cn_class() -> None:
    for r, f, m in product(range(1, 6), repeat=3):
        matches = [c for c in CN_RFM_CLASSES if (c.r_high, c.f_high, c.m_high) == (r >= 3, f >= 3, m >= 3)]
        assert matches == [cn_rfm_class(r, f, m)]
    assert cn_rfm_class(3, 3, 3, threshold=4).label_zh == "一般挽留客户"


def test_cn_classes_model_follows_the_threshold(wh: Warehouse) -> None:
    write_rule_table(wh)
    wh.execute(
        "create table segments.rfm_scores (customer_id varchar, r_score int, f_score int, m_score int)"
    )
    wh.execute(
        "insert into segments.rfm_scores values ('a', 5, 5, 5), ('b', 3, 4, 2), ('c', 2, 2, 4), ('d', 4, 4, 4)"
    )
    sql = "select customer_id, rfm_cn_class, rfm_cn_class_en from ({}) order by 1"
    model = wh.model_sql("segments/rfm_cn_classes")
    assert wh.rows(sql.format(model), {"threshold": 3}) == [
        ("a", "重要价值客户", "Important Value"),
        ("b", "一般价值客户", "General Value"),
        ("c", "重要挽留客户", "Important Win-back"),
        ("d", "重要价值客户", "Important Value"),
    ]
    assert wh.rows(sql.format(model), {"threshold": 5})[3] == ("d", "一般挽留客户", "General Win-back")


def features_table(wh: Warehouse, rows: list[tuple]) -> None:
    """features.customer_features with the columns value_lifecycle reads."""
    wh.execute(
        "create table features.customer_features (customer_id varchar, frequency bigint, monetary decimal(18,2), "
        "first_purchase_date date, last_active_date date)"
    )
    for row in rows:
        wh.execute("insert into features.customer_features values (?, ?, ?, ?, ?)", list(row))


def stages(wh: Warehouse, **overrides: float) -> list[tuple]:
    config = SegmentConfig(**overrides)
    columns = "customer_id, value_tier, value_tier_zh, lifecycle_stage, lifecycle_stage_zh"
    sql = f"select {columns} from ({wh.model_sql('segments/value_lifecycle')}) order by 1"
    return wh.rows(sql, {"as_of": AS_OF, **lifecycle_params(config)})


def day(days_ago: int) -> date:
    return date.fromordinal(AS_OF.toordinal() - days_ago)


def test_lifecycle_boundaries(wh: Warehouse) -> None:
    features_table(
        wh,
        [
            ("c01", None, None, None, day(0)),  # plays but never paid
            ("c02", 1, 10, day(30), day(30)),  # first purchase exactly new_days ago: new
            ("c03", 2, 10, day(31), day(30)),  # not new; active exactly active_days ago: active
            ("c04", 2, 10, day(200), day(31)),  # sleeping from active_days + 1
            ("c05", 2, 10, day(200), day(90)),  # still sleeping at sleeping_days
            ("c06", 2, 10, day(200), day(91)),  # churned beyond
        ],
    )
    assert [(c, s, zh) for c, _, _, s, zh in stages(wh)] == [
        ("c01", "never_purchased", "未付费"),
        ("c02", "new", "新客户"),
        ("c03", "active", "活跃"),
        ("c04", "sleeping", "沉睡"),
        ("c05", "sleeping", "沉睡"),
        ("c06", "churned", "流失"),
    ]
    assert [s for _, _, _, s, _ in stages(wh, new_days=7, active_days=60, sleeping_days=180)] == [
        "never_purchased",
        "active",
        "active",
        "active",
        "sleeping",
        "sleeping",
    ]


def test_value_tiers_by_monetary_share_with_ties_taking_the_better_tier(wh: Warehouse) -> None:
    # ten purchasers: high = top ceil(0.2 * 10) = 2, medium = up to ceil(0.5 * 10) = 5, the rest low
    amounts = [900, 800, 700, 600, 500, 500, 300, 200, 100, 50]
    rows = [(f"c{i:02}", 1, amount, day(100), day(100)) for i, amount in enumerate(amounts)]
    features_table(wh, [*rows, ("c99", None, None, None, None)])
    tiers = [(c, t, zh) for c, t, zh, _, _ in stages(wh)]
    assert tiers == [
        ("c00", "high", "高价值"),
        ("c01", "high", "高价值"),
        ("c02", "medium", "中价值"),
        ("c03", "medium", "中价值"),
        ("c04", "medium", "中价值"),
        ("c05", "medium", "中价值"),  # tied with c04 at 500: the same tier
        ("c06", "low", "低价值"),
        ("c07", "low", "低价值"),
        ("c08", "low", "低价值"),
        ("c09", "low", "低价值"),
        ("c99", "none", "未消费"),
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"tier_high_share": 0.6, "tier_medium_share": 0.4},
            "tier_high_share + tier_medium_share must be below 1",
        ),
        ({"active_days": 90, "sleeping_days": 90}, "sleeping_days must be larger than active_days"),
        ({"cn_rfm_threshold": 6}, "less than or equal to 5"),
    ],
)
def test_segment_settings_are_validated(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        SegmentConfig(**settings)
