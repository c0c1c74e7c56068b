"""Model tests of segments/customer_segments: features, scores, schemes and clusters joined per customer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tasks.segment import build_customer_segments
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENT_COLUMNS, SEGMENTS_AS_OF, columns_of, segment_inputs

# churn_risk, risk_tier, risk_tier_zh, p_alive, expected_purchases_90d, predicted_value_90d: no predict run
NO_PREDICTIONS = (None,) * 6


def test_customer_segments_join_features_scores_and_clusters(wh: Warehouse) -> None:
    segment_inputs(wh)
    assert build_customer_segments(wh) == 3
    assert columns_of(wh, "segments", "customer_segments") == SEGMENT_COLUMNS
    d = {n: SEGMENTS_AS_OF - timedelta(days=n) for n in (0, 3, 10, 40, 200)}
    assert wh.rows("select * from segments.customer_segments order by customer_id") == [
        (
            SEGMENTS_AS_OF,
            "C1",
            3,
            4,
            Decimal("520.00"),
            5,
            5,
            5,
            "Champions",
            "冠军客户",
            "重要价值客户",
            "Important Value",
            "high",
            "高价值",
            "active",
            "活跃",
            "high_frequency_players",
            "高频玩家",
            0,
            "big",
            "大",
            *NO_PREDICTIONS,
            d[200],
            d[3],
            1,
            2,
            3,
            5,
            9,
            12,
            "麻将",
            d[0],
            True,
        ),
        (
            SEGMENTS_AS_OF,
            "C2",
            40,
            1,
            Decimal("-0.50"),
            1,
            1,
            1,
            "Lost",
            "已流失客户",
            "一般挽留客户",
            "General Win-back",
            "low",
            "低价值",
            "churned",
            "流失",
            None,
            None,
            1,
            "small",
            "小",
            *NO_PREDICTIONS,
            d[40],
            d[40],
            0,
            1,
            1,
            0,
            0,
            0,
            None,
            d[10],
            False,
        ),
        # no purchase: no scores, the fallback segment of both RFM schemes, a cluster, still one row
        (
            SEGMENTS_AS_OF,
            "C3",
            None,
            None,
            None,
            None,
            None,
            None,
            "No Purchase",
            "未购买客户",
            "未购买客户",
            "No Purchase",
            "none",
            "未消费",
            "never_purchased",
            "未付费",
            "high_intent_not_paying,high_frequency_players",
            "高意向未付费,高频玩家",
            2,
            "free",
            "免费",
            *NO_PREDICTIONS,
            None,
            None,
            0,
            0,
            0,
            2,
            2,
            2,
            "斗地主",
            d[3],
            False,
        ),
    ]


def test_customer_segments_ignore_scores_of_customers_without_features(wh: Warehouse) -> None:
    segment_inputs(wh)
    wh.execute("insert into segments.rfm_scores values ('C9', 3, 3, 3, 3, 'Need Attention', '需要关注客户')")
    wh.execute("insert into segments.clusters values ('C9', 2, 'x', 'x')")
    build_customer_segments(wh)
    assert wh.rows(
        "select customer_id, count(*) from segments.customer_segments group by all order by all"
    ) == [
        ("C1", 1),
        ("C2", 1),
        ("C3", 1),
    ]


def test_rule_segments_list_the_highest_priority_first_then_by_name(wh: Warehouse) -> None:
    segment_inputs(wh)
    wh.execute(
        "insert into segments.rule_memberships values "
        "('C2', 'b_rule', 'B', '乙', 10, null), ('C2', 'c_rule', 'C', '丙', 30, null), "
        "('C2', 'a_rule', 'A', '甲', 10, 'g')"
    )
    build_customer_segments(wh)
    assert wh.rows(
        "select customer_id, rule_segments, rule_segments_zh from segments.customer_segments order by 1"
    ) == [
        ("C1", "high_frequency_players", "高频玩家"),
        ("C2", "c_rule,a_rule,b_rule", "丙,甲,乙"),
        ("C3", "high_intent_not_paying,high_frequency_players", "高意向未付费,高频玩家"),
    ]


def test_rule_segments_of_customers_sharing_a_set_and_negative_priorities(wh: Warehouse) -> None:
    # the names of a set of rule segments are looked up once per set: C1 and C2 share one, C3 has
    # another of the same rules in a subset, C9 (no features) is in none of the day's customers
    segment_inputs(wh)
    wh.execute("delete from segments.rule_memberships")
    wh.execute(
        "insert into segments.rule_memberships values "
        "('C1', 'zeta', 'Z', '甲', -5, null), ('C1', 'alpha', 'A', '乙', 0, null), ('C1', 'mid', 'M', '丙', 0, 'g'), "
        "('C2', 'mid', 'M', '丙', 0, 'g'), ('C2', 'zeta', 'Z', '甲', -5, null), ('C2', 'alpha', 'A', '乙', 0, null), "
        "('C3', 'zeta', 'Z', '甲', -5, null), ('C9', 'alpha', 'A', '乙', 0, null)"
    )
    build_customer_segments(wh)
    assert wh.rows(
        "select customer_id, rule_segments, rule_segments_zh from segments.customer_segments order by 1"
    ) == [
        ("C1", "alpha,mid,zeta", "乙,丙,甲"),
        ("C2", "alpha,mid,zeta", "乙,丙,甲"),
        ("C3", "zeta", "甲"),
    ]
