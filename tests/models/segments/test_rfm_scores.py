"""Model tests of segments/rfm_scores and the RFM segment grid."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import product

import pytest

from tasks.segment import score_params, write_rule_table
from tasks.shared.config import SegmentConfig
from tasks.shared.rfm_names import RFM_SEGMENTS
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create


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


# Inputs that score exactly R, F or M = 1..5 with the default fixed cut points
# (recency_days 7, 30, 90, 180; frequency 2, 3, 5, 10; monetary 100, 500, 2000, 10000).
RECENCY_OF_R = {5: 0, 4: 8, 3: 31, 2: 91, 1: 181}
FREQUENCY_OF_F = {1: 1, 2: 2, 3: 3, 4: 5, 5: 10}
MONETARY_OF_M = {
    1: Decimal("1.00"),
    2: Decimal("100.00"),
    3: Decimal("500.00"),
    4: Decimal("2000.00"),
    5: Decimal("10000.00"),
}


def score_triples(
    wh: Warehouse, triples: Sequence[tuple[int, int, int]]
) -> dict[tuple[int, int, int], tuple]:
    """Run rfm_scores (fixed bins) on one customer per (R, F, M) triple; each triple's (R, F, M, FM, segment)."""
    customers = {f"t{r}{f}{m}": (r, f, m) for r, f, m in triples}
    features = [
        (customer, RECENCY_OF_R[r], FREQUENCY_OF_F[f], MONETARY_OF_M[m])
        for customer, (r, f, m) in customers.items()
    ]
    rows = run_rfm_scores(wh, features, score_method="fixed")
    return {customers[row[0]]: row[1:6] for row in rows}


def quintile_f_scores(wh: Warehouse, n: int) -> list[int]:
    """The F score of each of n customers whose frequencies are 1..n (SQL rank = frequency), by rank."""
    wh.execute(
        "create or replace table features.customer_features as select 'c' || lpad(i::varchar, 7, '0') as "
        "customer_id, 1::bigint as recency_days, (i + 1)::bigint as frequency, 10.00::decimal(38,2) as monetary "
        "from range(?) t(i)",
        [n],
    )
    write_rule_table(wh)
    wh.build("segments.rfm_scores", "segments/rfm_scores", score_params(SegmentConfig()))
    return [f for (f,) in wh.rows("select f_score from segments.rfm_scores order by customer_id")]


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


def test_rfm_scores_name_each_customer_by_its_grid_cell(wh: Warehouse) -> None:
    rows = run_rfm_scores(wh, RFM_FEATURES)
    assert len(rows) == 10
    labels = {s.name: s.label_zh for s in RFM_SEGMENTS}
    for customer, r, f, m, fm, name, label_zh in rows:
        cell = RFM_GRID[r][(f + m + 1) // 2 - 1]
        assert (customer, fm, name, label_zh) == (customer, (f + m + 1) // 2, cell, labels[cell])


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


def test_every_rfm_score_triple_maps_to_its_grid_segment(wh: Warehouse) -> None:
    triples = list(product(range(1, 6), repeat=3))
    scored = score_triples(wh, triples)
    assert len(scored) == 125
    assert {triple: row[:3] for triple, row in scored.items()} == {t: t for t in triples}
    names = {triple: row[4] for triple, row in scored.items()}
    assert names == {
        (r, f, m): RFM_GRID[r][(f + m + 1) // 2 - 1] for r, f, m in product(range(1, 6), repeat=3)
    }
    assert (names[(5, 4, 5)], names[(3, 2, 3)], names[(1, 5, 4)]) == (
        "Champions",
        "Need Attention",
        "Can't Lose Them",
    )


def test_fm_score_is_the_mean_rounded_half_up(wh: Warehouse) -> None:
    pairs = [(1, 1), (1, 2), (2, 3), (4, 5), (5, 5), (1, 5)]
    scored = score_triples(wh, [(3, f, m) for f, m in pairs])
    assert [scored[(3, f, m)][3] for f, m in pairs] == [
        1,
        2,
        3,
        5,
        5,
        3,
    ]


def test_quintile_score_values(wh: Warehouse) -> None:
    # score = 1 + floor(5 * (rank - 1) / n); frequencies 1..n rank 1..n
    assert quintile_f_scores(wh, 10) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_f_scores(wh, 7) == [1, 1, 2, 3, 3, 4, 5]
    assert quintile_f_scores(wh, 3) == [1, 2, 4]
    assert quintile_f_scores(wh, 1) == [1]
    million = quintile_f_scores(wh, 1_000_000)
    assert (million[0], million[-1]) == (1, 5)


@pytest.mark.parametrize("n", [0, 5, 10])
def test_quintile_ranks_stay_within_the_customers_so_scores_stay_within_one_to_five(
    wh: Warehouse, n: int
) -> None:
    # SQL rank() runs 1..n over the n customers with a purchase; with none, nothing is scored
    scores = quintile_f_scores(wh, n)
    assert len(scores) == n
    assert set(scores) == (set(range(1, 6)) if n else set())


@pytest.mark.parametrize(("r", "f", "m"), [(0, 3, 3), (3, 6, 6)])
def test_no_rfm_segment_covers_scores_outside_the_grid(wh: Warehouse, r: int, f: int, m: int) -> None:
    # the rule table rfm_scores joins (R within r_min..r_max, FM within fm_min..fm_max) has no row for them
    write_rule_table(wh)
    covering = wh.rows(
        "select segment from segments.rfm_segment_rules "
        "where $r between r_min and r_max and ($f + $m + 1) // 2 between fm_min and fm_max",
        {"r": r, "f": f, "m": m},
    )
    assert covering == []
