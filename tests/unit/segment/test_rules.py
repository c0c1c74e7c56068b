"""Rule segments in the warehouse: the seed rules, and memberships with priorities and exclusive groups.

The rule language itself (compilation, precedence, rejections) is tested in tests/unit/shared/test_rules.py.
"""

from tasks.segment import build_rule_memberships, write_rule_table
from tasks.shared.config import SegmentConfig
from tasks.shared.warehouse import Warehouse


def test_default_rules_are_the_two_seed_examples_and_the_churn_warning() -> None:
    assert [(r.name, r.label_zh, r.when) for r in SegmentConfig().rules] == [
        ("high_frequency_players", "高频玩家", "sessions_90d >= 5"),
        ("high_intent_not_paying", "高意向未付费", "sessions_180d >= 3 and frequency is null"),
        ("churn_warning", "流失预警", "risk_tier = 'high' and frequency >= 2 and recency_days <= 90"),
    ]


def test_memberships_with_priorities_and_exclusive_groups() -> None:
    wh = Warehouse(":memory:")
    # the inputs rule segments read: features and the schemes computed before them
    wh.execute(
        "create table features.customer_features as select date '2026-11-30' as as_of, 10 as recency_days, * from (values "
        "('a', 12, 30, 2, 500.0, 'medium'), ('b', 6, 10, null, null, null), "
        "('c', 1, 4, null, null, null), ('d', 0, 0, 1, 20.0, 'low')"
        ") t(customer_id, sessions_90d, sessions_180d, frequency, monetary, tier)"
    )
    wh.execute(
        "create table segments.rfm_scores (customer_id varchar, r_score int, f_score int, m_score int, rfm_segment varchar)"
    )
    wh.execute("create table segments.rfm_cn_classes (customer_id varchar, rfm_cn_class varchar)")
    wh.execute(
        "create table segments.value_lifecycle as select customer_id, tier as value_tier, null as lifecycle_stage "
        "from features.customer_features"
    )
    write_rule_table(wh)  # the fallback segment of customers without a purchase
    config = SegmentConfig(
        rules=[
            *SegmentConfig().rules,
            {
                "name": "vip",
                "label_en": "VIP",
                "label_zh": "贵宾",
                "when": "monetary >= 100",
                "priority": 5,
                "exclusive_group": "value",
            },
            {
                "name": "payer",
                "label_en": "Payer",
                "label_zh": "付费用户",
                "when": "frequency >= 1",
                "priority": 1,
                "exclusive_group": "value",
            },
            {
                "name": "injection",
                "label_en": "x",
                "label_zh": "x",
                "when": "value_tier = 'x''); drop table t; --'",
            },
        ]
    )
    assert build_rule_memberships(wh, config) == 6
    assert wh.rows(
        "select customer_id, segment, label_zh, priority from segments.rule_memberships order by 1, 4 desc"
    ) == [
        ("a", "high_frequency_players", "高频玩家", 10),
        ("a", "vip", "贵宾", 5),  # 'payer' matched too, but vip wins its exclusive group
        ("b", "high_intent_not_paying", "高意向未付费", 20),
        ("b", "high_frequency_players", "高频玩家", 10),
        ("c", "high_intent_not_paying", "高意向未付费", 20),
        ("d", "payer", "付费用户", 1),
    ]
    assert wh.table_exists("features.customer_features")  # the quoted value stayed a value
    wh.close()
