"""RFM score methods, the Chinese 8-class RFM scheme, value tiers, lifecycle stages and the fallback, at their boundaries."""

import re
from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from pydantic import ValidationError

from tasks.segment import lifecycle_params, score_params, segment_all, write_rule_table
from tasks.shared.config import SegmentConfig
from tasks.shared.rfm_names import CN_RFM_CLASSES
from tasks.shared.warehouse import Warehouse

AS_OF = date(2026, 3, 31)


@pytest.fixture
def wh() -> Warehouse:
    warehouse = Warehouse(":memory:")
    yield warehouse
    warehouse.close()


def cn_classes(wh: Warehouse, scores: list[tuple[int, int, int]], threshold: int) -> dict[tuple, list[tuple]]:
    """Run segments/rfm_cn_classes on one customer per score triple: each triple's (label_zh, name) rows."""
    write_rule_table(wh)
    customers = {f"s{r}{f}{m}": (r, f, m) for r, f, m in scores}
    wh.execute(
        "create or replace table segments.rfm_scores (customer_id varchar, r_score int, f_score int, m_score int)"
    )
    wh.con.executemany(
        "insert into segments.rfm_scores values (?, ?, ?, ?)",
        [[customer, *triple] for customer, triple in customers.items()],
    )
    sql = (
        f"select customer_id, rfm_cn_class, rfm_cn_class_en from ({wh.model_sql('segments/rfm_cn_classes')})"
    )
    found: dict[tuple, list[tuple]] = {triple: [] for triple in customers.values()}
    for customer, label_zh, name in wh.rows(sql, {"threshold": threshold}):
        found[customers[customer]].append((label_zh, name))
    return found


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
def test_cn_rfm_class_at_the_threshold(wh: Warehouse, scores: tuple[int, int, int], label: str) -> None:
    [(label_zh, _)] = cn_classes(wh, [scores], SegmentConfig().cn_rfm_threshold)[scores]
    assert label_zh == label


def test_every_score_triple_has_exactly_one_cn_class(wh: Warehouse) -> None:
    found = cn_classes(wh, list(product(range(1, 6), repeat=3)), threshold=3)
    for (r, f, m), classes in found.items():
        matches = [c for c in CN_RFM_CLASSES if (c.r_high, c.f_high, c.m_high) == (r >= 3, f >= 3, m >= 3)]
        assert len(classes) == 1
        assert [(c.label_zh, c.name) for c in matches] == classes
    assert cn_classes(wh, [(3, 3, 3)], threshold=4)[(3, 3, 3)][0][0] == "一般挽留客户"


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
            # the days are the features' windows, (as_of - N days, as_of]: N days ago is outside
            ("c01", None, None, None, day(0)),  # plays but never paid
            ("c02", 1, 10, day(29), day(29)),  # first purchase in the 30-day window's first day: new
            ("c03", 2, 10, day(30), day(29)),  # not new (new_days ago); active in the window's first day
            ("c04", 2, 10, day(200), day(30)),  # sleeping from active_days (the tag says 不活跃 there)
            ("c05", 2, 10, day(200), day(89)),  # still sleeping in the 90-day window
            ("c06", 2, 10, day(200), day(90)),  # churned from sleeping_days
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
        ({"score_bins": {"frequency": [1, 2, 2, 5]}}, "frequency: cut points must be strictly ascending"),
        (
            {"score_bins": {"recency_days": [30, 7, 90, 180]}},
            "recency_days: cut points must be strictly ascending",
        ),
        ({"score_bins": {"monetary": [100, 500, 2000]}}, "monetary: 4 cut points make 5 scores; got 3"),
        ({"score_bins": {"monetary": [1, 2, 3, 4], "spend": [1]}}, "score_bins.spend\n  Extra inputs"),
        ({"score_method": "deciles"}, "Input should be 'quintile' or 'fixed'"),
        ({"cluster_k_min": 5, "cluster_k_max": 4}, "cluster_k_max must be at least cluster_k_min"),
    ],
)
def test_segment_settings_are_validated(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        SegmentConfig(**settings)


# --- fixed score bins --------------------------------------------------------------------------------

# customer, recency_days, frequency, monetary -> R, F, M with the default cut points
# recency_days [7, 30, 90, 180], frequency [2, 3, 5, 10], monetary [100, 500, 2000, 10000]:
# a value on a cut point takes the better score
FIXED_CASES = [
    ("b00", 0, 1, Decimal("0.01"), (5, 1, 1)),
    ("b01", 7, 2, Decimal("99.99"), (5, 2, 1)),
    ("b02", 8, 3, Decimal("100.00"), (4, 3, 2)),
    ("b03", 30, 4, Decimal("499.99"), (4, 3, 2)),
    ("b04", 31, 5, Decimal("500.00"), (3, 4, 3)),
    ("b05", 90, 9, Decimal("1999.99"), (3, 4, 3)),
    ("b06", 91, 10, Decimal("2000.00"), (2, 5, 4)),
    ("b07", 180, 11, Decimal("9999.99"), (2, 5, 4)),
    ("b08", 181, 100, Decimal("10000.00"), (1, 5, 5)),
    ("b09", 900, 1, Decimal("10000.00"), (1, 1, 5)),
]


def fixed_scores(wh: Warehouse, config: SegmentConfig) -> list[tuple]:
    """(customer_id, R, F, M) of FIXED_CASES (and a customer without a purchase) scored by segments/rfm_scores."""
    wh.execute(
        "create or replace table features.customer_features "
        "(customer_id varchar, recency_days bigint, frequency bigint, monetary decimal(18,2))"
    )
    for customer, recency, frequency, monetary, _ in FIXED_CASES:
        wh.execute(
            "insert into features.customer_features values (?, ?, ?, ?)",
            [customer, recency, frequency, monetary],
        )
    wh.execute("insert into features.customer_features values ('none', null, null, null)")
    write_rule_table(wh)
    wh.build("segments.rfm_scores", "segments/rfm_scores", score_params(config))
    return wh.rows("select customer_id, r_score, f_score, m_score from segments.rfm_scores order by 1")


def test_fixed_scores_at_every_cut_point(wh: Warehouse) -> None:
    got = {customer: scores for customer, *scores in fixed_scores(wh, SegmentConfig(score_method="fixed"))}
    for customer, recency, frequency, monetary, expected in FIXED_CASES:
        assert tuple(got[customer]) == expected, (recency, frequency, monetary)


def test_rfm_scores_model_with_fixed_bins_follows_the_configured_cut_points(wh: Warehouse) -> None:
    assert fixed_scores(wh, SegmentConfig(score_method="fixed")) == [
        (customer, *expected) for customer, *_, expected in FIXED_CASES
    ]
    # custom cut points: one order is F 1 only below 2 orders; 1000 is the top of money
    custom = SegmentConfig(
        score_method="fixed", score_bins={"frequency": [2, 20, 30, 40], "monetary": [10, 20, 30, 1000]}
    )
    wh.build("segments.rfm_scores", "segments/rfm_scores", score_params(custom))
    assert wh.rows(
        "select customer_id, f_score, m_score from segments.rfm_scores where customer_id in ('b06', 'b09')"
    ) == [
        ("b06", 2, 5),
        ("b09", 1, 5),
    ]


# --- every customer in exactly one segment of each scheme -------------------------------------------

FEATURE_COLUMNS = (
    "customer_id varchar, as_of date, recency_days bigint, frequency bigint, monetary decimal(18,2), "
    "first_purchase_date date, last_purchase_date date, payments_30d bigint, payments_90d bigint, "
    "payments_180d bigint, sessions_30d bigint, sessions_90d bigint, sessions_180d bigint, sessions_total bigint, "
    "last_session_date date, session_minutes_90d bigint, favourite_game varchar, engagements_total bigint, "
    "last_active_date date, avg_feedback_score double, feedback_count bigint, first_seen_date date, "
    "marketing_consent boolean"
)


def all_features(wh: Warehouse, purchases: list[tuple[str, int, int, Decimal]], without: list[str]) -> None:
    """features.customer_features with every column: buyers (recency, frequency, monetary) and non-buyers."""
    wh.execute(f"create table features.customer_features ({FEATURE_COLUMNS})")
    for customer, recency, frequency, monetary in purchases:
        last = AS_OF - timedelta(days=recency)
        wh.execute(
            "insert into features.customer_features values "
            "(?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, ?, ?, ?, ?, ?, '麻将', 0, ?, null, 0, ?, true)",
            [customer, AS_OF, recency, frequency, monetary, last - timedelta(days=10), last, 1, 1]
            + [frequency, frequency, frequency, last, 30 * frequency, last, last - timedelta(days=10)],
        )
    for customer in without:
        wh.execute(
            "insert into features.customer_features (customer_id, as_of, payments_30d, payments_90d, payments_180d, "
            "sessions_30d, sessions_90d, sessions_180d, sessions_total, session_minutes_90d, engagements_total, "
            "feedback_count, first_seen_date) values (?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ?)",
            [customer, AS_OF, AS_OF],
        )


SCHEMES = (
    "rfm_segment",
    "rfm_segment_zh",
    "rfm_cn_class",
    "rfm_cn_class_en",
    "value_tier",
    "lifecycle_stage",
    "cluster_id",
    "cluster_name",
    "cluster_name_zh",
)

# ties at quintile boundaries (n = 10): recency 30 x3, frequency 1 x4, monetary 10 x2 and 20 x2
PURCHASES = [
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
]


@pytest.mark.parametrize("method", ["quintile", "fixed"])
def test_every_customer_has_exactly_one_segment_of_each_scheme(wh: Warehouse, method: str) -> None:
    all_features(wh, [*PURCHASES, ("c11", 100, 1, Decimal("15.00"))], without=["n1", "n2"])
    result = segment_all(wh, SegmentConfig(score_method=method, clusters=3), AS_OF, "run-1")
    rows = wh.dicts(
        f"select customer_id, r_score, {', '.join(SCHEMES)} from segments.customer_segments order by 1"
    )
    assert [r["customer_id"] for r in rows] == [f"c{i:02d}" for i in range(1, 12)] + ["n1", "n2"]
    assert all(r[column] is not None for r in rows for column in SCHEMES)
    by_id = {r["customer_id"]: r for r in rows}
    # customers without a purchase: the documented fallback in both RFM schemes, no scores
    for customer in ("n1", "n2"):
        assert (
            by_id[customer]["r_score"],
            by_id[customer]["rfm_segment"],
            by_id[customer]["rfm_segment_zh"],
        ) == (
            None,
            "No Purchase",
            "未购买客户",
        )
        assert (by_id[customer]["rfm_cn_class"], by_id[customer]["rfm_cn_class_en"]) == (
            "未购买客户",
            "No Purchase",
        )
        assert (by_id[customer]["value_tier"], by_id[customer]["lifecycle_stage"]) == (
            "none",
            "never_purchased",
        )
    # equal inputs, equal segments in every scheme (c11 copies c10)
    assert {k: v for k, v in by_id["c11"].items() if k != "customer_id"} == {
        k: v for k, v in by_id["c10"].items() if k != "customer_id"
    }
    assert result.rfm_segments["No Purchase"] == 2
    assert result.scored == 11
    assert result.cluster_model["k"] == 3
    assert result.stability == {"previous_as_of": None, "schemes": []}
    tags = wh.rows(
        "select tag, count(*) from segments.customer_tags where tag <> 'rule_segment' group by 1 order by 1"
    )
    assert tags == [
        ("activity", 13),
        ("cluster", 13),
        ("favourite_game", 11),
        ("lifecycle_stage", 13),
        ("marketing_consent", 11),
        ("rfm_cn_class", 13),
        ("rfm_segment", 13),
        ("value_tier", 13),
    ]
