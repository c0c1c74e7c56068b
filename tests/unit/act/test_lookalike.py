"""Lookalike audiences on planted data: a latent group whose seeded part must find the rest."""

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from threadpoolctl import threadpool_limits

from tasks.act.lookalike import (
    MIN_SEED,
    audience,
    build_lookalikes,
    evaluate_lookalike,
    score_lookalike,
    seed_problem,
    top_count,
)
from tasks.act.lookalike_model import fit_sample
from tasks.shared.config import LookalikeConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

CUSTOMERS = 3000
GROUP = 300  # the latent group: customers 0..299
SEEDED = 120  # of which the first 120 are the seed


@pytest.fixture(autouse=True, scope="module")
def one_openmp_thread() -> Iterator[None]:
    """Gradient boosting on one OpenMP thread (small frames; see tests/unit/predict/conftest.py)."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def planted(customers: int = CUSTOMERS, group: int = GROUP) -> pl.DataFrame:
    """Inputs where the latent group plays more, more recently, and spends more; others overlap them.

    Also an all-null column, a constant one, and a noise one the model must live with.
    """
    rng = np.random.default_rng(7)
    member = np.arange(customers) < group
    payer = member | (rng.random(customers) < 0.5)
    spend = np.where(member, rng.normal(6.0, 1.0, customers), rng.normal(4.0, 1.5, customers))
    purchases = np.where(member, rng.normal(2.0, 0.5, customers), rng.normal(1.0, 0.6, customers))
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(customers)],
            "log_sessions_90d": np.where(
                member, rng.normal(3.0, 0.6, customers), rng.normal(1.5, 0.8, customers)
            ),
            "inactive_days": np.where(member, rng.exponential(10, customers), rng.exponential(60, customers)),
            "log_monetary": pl.Series(np.where(payer, spend, np.nan)).fill_nan(None),
            "log_frequency": pl.Series(np.where(payer, purchases, np.nan)).fill_nan(None),
            "noise": rng.random(customers),
            "never_filled": pl.Series([None] * customers, dtype=pl.Float64),
            "constant": np.ones(customers),
        }
    )


def first(count: int, customers: int = CUSTOMERS) -> pl.Series:
    """A seed of the first count customers."""
    return pl.Series(np.arange(customers) < count)


def test_hidden_seed_members_rank_in_the_top_tenth_three_times_more_than_at_random() -> None:
    rows = evaluate_lookalike(planted(), first(SEEDED))
    assert [row["top_share"] for row in rows] == [0.05, 0.10, 0.20]
    assert {(row["customers"], row["seed_size"], row["hidden"]) for row in rows} == {(CUSTOMERS, SEEDED, 30)}
    assert [row["random_share"] for row in rows] == [0.05, 0.10, 0.20]
    at_10 = rows[1]
    # the acceptance criterion: recall at 10% at least 3x random
    assert at_10["found_share"] >= 3 * at_10["random_share"]
    assert at_10["lift"] == pytest.approx(at_10["found_share"] / 0.10)
    # the planted group is found almost entirely, and better than by money alone
    assert at_10["found_share"] >= 0.9
    assert at_10["found_share"] > at_10["rule_share"]
    assert [row["found_share"] for row in rows] == sorted(row["found_share"] for row in rows)


def test_the_unseeded_rest_of_the_latent_group_makes_the_audience() -> None:
    scores = score_lookalike(planted(), first(SEEDED))
    chosen = scores.filter(audience(scores, 0.10))
    # 2880 non-members: the audience is exactly ceil(0.10 x 2880) of them
    assert chosen.height == 288
    found = chosen["customer_id"].is_in([f"C{i:05d}" for i in range(SEEDED, GROUP)]).sum()
    assert found >= 0.85 * (GROUP - SEEDED)


def test_percentiles_rank_the_non_members_from_100_down_and_leave_the_seed_out() -> None:
    scores = score_lookalike(planted(), first(SEEDED))
    assert scores.columns == ["customer_id", "seed", "score", "percentile"]
    assert scores.height == CUSTOMERS
    assert scores["score"].is_between(0, 1).all()
    seed, others = scores.filter(pl.col("seed")), scores.filter(~pl.col("seed"))
    assert seed["percentile"].null_count() == SEEDED
    assert others["percentile"].null_count() == 0
    assert others["percentile"].max() == 100.0
    assert others["percentile"].min() == pytest.approx(100.0 / 2880)
    assert others["percentile"].n_unique() == 2880
    # a higher score never has a lower percentile
    by_score = others.sort(["score", "customer_id"], descending=[True, False])
    assert by_score["percentile"].to_list() == sorted(by_score["percentile"].to_list(), reverse=True)


def test_the_audience_is_exactly_ceil_share_of_the_non_members_ties_by_customer_id() -> None:
    scores = pl.DataFrame(
        {
            "customer_id": [f"C{i:02d}" for i in range(33)],
            "seed": [True] * 3 + [False] * 30,
            "score": [0.9] * 3 + [0.5] * 30,  # every non-member ties
        }
    )
    from tasks.act.lookalike import _percentiles

    ranked = _percentiles(scores)
    chosen = ranked.filter(audience(ranked, 0.10))["customer_id"].to_list()
    assert chosen == ["C03", "C04", "C05"]  # 0.1 x 30 = 3.0000000000000004 in floats: still 3
    assert top_count(0.10, 30) == 3
    assert top_count(0.15, 30) == 5  # 4.5 rounds up
    assert not audience(ranked, 0.10).filter(ranked["seed"]).any()


def test_two_runs_give_the_same_scores_and_evaluation() -> None:
    inputs = planted()
    assert score_lookalike(inputs, first(SEEDED)).equals(score_lookalike(inputs, first(SEEDED)))
    assert evaluate_lookalike(inputs, first(SEEDED)) == evaluate_lookalike(inputs, first(SEEDED))
    assert evaluate_lookalike(inputs, first(SEEDED), random_state=1) != evaluate_lookalike(
        inputs, first(SEEDED)
    )


def test_the_models_sample_holds_seed_members_up_to_half_and_non_members_for_the_rest() -> None:
    rare = np.arange(1000) < 300
    rows = fit_sample(rare, 0, 200)
    assert (rows.size, int(rare[rows].sum())) == (200, 100)
    assert (np.diff(rows) > 0).all()
    assert np.array_equal(rows, fit_sample(rare, 0, 200))
    # non-members running short: the seed fills what they leave
    common = np.arange(1000) < 950
    assert int(common[fit_sample(common, 0, 200)].sum()) == 150
    # a population that fits the sample is all of it
    assert np.array_equal(fit_sample(rare, 0, 1000), np.arange(1000))


def test_models_fitted_on_a_third_of_the_customers_still_find_the_latent_group() -> None:
    scores = score_lookalike(planted(), first(SEEDED), sample_rows=1000)
    assert scores["score"].null_count() == 0
    chosen = scores.filter(audience(scores, 0.10))
    assert chosen.height == 288
    assert chosen["customer_id"].is_in([f"C{i:05d}" for i in range(SEEDED, GROUP)]).sum() >= 0.85 * (
        GROUP - SEEDED
    )
    at_10 = evaluate_lookalike(planted(), first(SEEDED), sample_rows=1000)[1]
    assert at_10["found_share"] >= 0.9


def test_the_evaluation_of_many_customers_runs_on_a_seeded_sample_of_them() -> None:
    rows = evaluate_lookalike(planted(), first(SEEDED), max_customers=2000)
    # 2000 of the 3000 customers, 73 of the 120 seed members among them, a quarter of those hidden
    assert {(row["customers"], row["seed_size"], row["hidden"]) for row in rows} == {(2000, 73, 18)}
    assert rows[1]["found_share"] >= 3 * rows[1]["random_share"]
    assert rows == evaluate_lookalike(planted(), first(SEEDED), max_customers=2000)


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (0, "no customer is in the seed segment today (an unknown or empty segment)"),
        (1, "the seed has 1 members; a lookalike needs at least 10"),
        (9, "the seed has 9 members; a lookalike needs at least 10"),
        (CUSTOMERS, "every customer is in the seed: there is no one left to find"),
    ],
)
def test_a_seed_that_cannot_be_modelled_says_why_and_scores_no_one(count: int, reason: str) -> None:
    seed = first(count)
    assert seed_problem(seed) == reason
    scores = score_lookalike(planted(), seed)
    assert scores.height == CUSTOMERS
    assert scores["score"].null_count() == CUSTOMERS
    assert scores["percentile"].null_count() == CUSTOMERS
    assert not audience(scores, 0.10).any()
    assert evaluate_lookalike(planted(), seed) == []


def test_a_seed_of_the_minimum_is_scored_but_too_small_to_evaluate() -> None:
    scores = score_lookalike(planted(), first(MIN_SEED))
    assert scores["score"].null_count() == 0
    assert seed_problem(first(MIN_SEED)) is None
    # hiding 25% of 10 leaves a training seed of 8: no evaluation
    assert evaluate_lookalike(planted(), first(MIN_SEED)) == []


def test_inputs_without_any_information_give_equal_scores() -> None:
    inputs = planted().select("customer_id", "never_filled", "constant")
    scores = score_lookalike(inputs, first(SEEDED))
    assert scores["score"].n_unique() == 1
    assert scores["score"][0] == pytest.approx(SEEDED / CUSTOMERS)
    # all tied: the percentiles follow customer_id
    others = scores.filter(~pl.col("seed")).sort("customer_id")
    assert others["percentile"][0] == 100.0


AS_OF = date(2026, 3, 31)
FEATURES = (
    "customer_id varchar, recency_days bigint, frequency bigint, monetary decimal(38,2), "
    "payments_30d bigint, payments_90d bigint, payments_180d bigint, sessions_30d bigint, sessions_90d bigint, "
    "sessions_180d bigint, sessions_total bigint, session_minutes_90d double, engagements_total bigint, "
    "avg_feedback_score double, feedback_count bigint, last_active_date date, first_seen_date date"
)


def warehouse_inputs(wh: Warehouse) -> None:
    """48 customers: 24 big spenders, of whom H00..H15 are tier:high and P00..P07 (every third) are not;
    L00..L23 spend little or nothing and play little."""
    day = {n: AS_OF - timedelta(days=n) for n in range(400)}
    rows = []
    for j in range(24):
        name = f"P{j // 3:02d}" if j % 3 == 2 else f"H{j - j // 3:02d}"
        feedback = (4.0 + j % 2, 1 + j % 2) if j % 4 else (None, 0)
        rows.append(
            (
                name, 2 + j % 5, 18 + j, 4000 + 100 * j, 2 + j % 2, 6 + j % 4, 12 + j % 5, 16 + j % 7,
                50 + j, 100 + 2 * j, 250 + 5 * j, 800.0 + 10 * j, 3 + j % 5, *feedback,
                day[1 + j % 4], day[260 + 2 * j],
            )
        )  # fmt: skip
    for i in range(24):
        payer = i % 2 == 0
        rows.append(
            (
                f"L{i:02d}",
                100 + i if payer else None,
                1 if payer else None,
                20 + i if payer else None,
                0, 0, 0, i % 2, 1, 2, 3, 5.0, 0, None, 0, day[100 + i], day[200 + i],
            )
        )  # fmt: skip
    create(wh, "features.customer_features", FEATURES, rows)
    create(
        wh,
        "act.segment_memberships",
        "scheme varchar, segment varchar, customer_id varchar",
        [("tier", "high", f"H{i:02d}") for i in range(16)] + [("tier", "medium", "P00")],
    )


def test_build_lookalikes_writes_the_scores_and_evaluation_of_each_lookalike() -> None:
    lookalikes = [
        LookalikeConfig(name="high", label_en="High", label_zh="高", seed="tier:high", audience_share=0.2),
        LookalikeConfig(name="ghost", label_en="Ghost", label_zh="无", seed="rules:nobody"),
        LookalikeConfig(name="tiny", label_en="Tiny", label_zh="小", seed="tier:medium"),
    ]
    with Warehouse(":memory:") as wh:
        warehouse_inputs(wh)
        summaries = build_lookalikes(wh, lookalikes, AS_OF)
        scores = wh.frame("select * from act.lookalike_scores order by customer_id")
        evaluation = wh.frame("select * from act.lookalike_evaluation order by top_share")
        types = dict(wh.describe("act.lookalike_scores") + wh.describe("act.lookalike_evaluation"))

    assert [(s["name"], s["seed_size"], s["audience"], s["reason"]) for s in summaries] == [
        ("high", 16, 7, None),  # ceil(0.2 x 32 non-members)
        ("ghost", 0, 0, "no customer is in the seed segment today (an unknown or empty segment)"),
        ("tiny", 1, 0, "the seed has 1 members; a lookalike needs at least 10"),
    ]
    assert scores.height == 48
    assert set(scores["lookalike"]) == {"high"}
    assert scores.filter(pl.col("seed"))["customer_id"].to_list() == [f"H{i:02d}" for i in range(16)]
    assert scores.filter(pl.col("seed"))["percentile"].null_count() == 16
    assert scores["percentile"].max() == 100.0
    audience_ids = scores.filter(pl.col("in_audience"))["customer_id"].to_list()
    assert len(audience_ids) == 7
    # the eight big spenders outside the seed rank first
    assert set(audience_ids) < {f"P{i:02d}" for i in range(8)}
    assert types["score"] == "DOUBLE" and types["in_audience"] == "BOOLEAN" and types["lift"] == "DOUBLE"

    assert evaluation.columns == [
        "lookalike",
        "customers",
        "seed_size",
        "hidden",
        "top_share",
        "found_share",
        "random_share",
        "rule_share",
        "lift",
        "evaluated_on",
    ]
    assert evaluation.select("lookalike", "customers", "seed_size", "hidden", "top_share").rows() == [
        ("high", 48, 16, 4, 0.05),
        ("high", 48, 16, 4, 0.10),
        ("high", 48, 16, 4, 0.20),
    ]
    at_10 = evaluation.row(1, named=True)
    assert {
        k: summaries[0][k] for k in ("top_share", "found_share", "random_share", "rule_share", "lift")
    } == {k: at_10[k] for k in ("top_share", "found_share", "random_share", "rule_share", "lift")}


def test_build_lookalikes_without_any_lookalike_leaves_empty_tables() -> None:
    with Warehouse(":memory:") as wh:
        warehouse_inputs(wh)
        assert build_lookalikes(wh, [], AS_OF) == []
        assert wh.count("act.lookalike_scores") == 0
        assert wh.columns("act.lookalike_evaluation")[0] == "lookalike"
