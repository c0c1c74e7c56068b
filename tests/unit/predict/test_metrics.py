"""Backtest metrics: exact figures on small hand-made predictions and outcomes."""

import math

import numpy as np
import pytest

from tasks.predict.metrics import (
    calibration_table,
    churn_scores,
    decile_of_rank,
    top_decile,
    value_scores,
)

# 20 customers with predicted risk i/20 (i = 0..19); these churned:
CHURNED_AT = {3, 7, 8, 11, 12, 13, 15, 16, 17, 18, 19}  # 11 churned, 9 stayed


def twenty() -> tuple[np.ndarray, np.ndarray]:
    """The 20 customers in reverse order of risk, so nothing depends on the input being sorted."""
    predicted = np.arange(20) / 20
    churned = np.array([int(i in CHURNED_AT) for i in range(20)])
    return predicted[::-1].copy(), churned[::-1].copy()


def test_decile_of_rank_fills_every_decile_and_breaks_ties_by_position() -> None:
    # 20 tied scores: two per decile in order of position
    assert decile_of_rank(np.zeros(20)).tolist() == [d for d in range(1, 11) for _ in range(2)]
    assert decile_of_rank(np.array([0.9, 0.1, 0.5])).tolist() == [7, 1, 4]  # ranks 2, 0, 1 of 3
    assert decile_of_rank(np.array([0.2, 0.3, 0.1, 0.5, 0.4])).tolist() == [3, 5, 1, 9, 7]


def test_top_decile_is_a_tenth_or_everyone_tied_at_the_top_of_a_small_set() -> None:
    assert np.flatnonzero(top_decile(np.arange(20.0)[::-1])).tolist() == [0, 1]
    assert np.flatnonzero(top_decile(np.zeros(20))).tolist() == [18, 19]  # ties: the last positions
    assert top_decile(np.array([0.2, 0.9, 0.1, 0.9, 0.3])).tolist() == [False, True, False, True, False]


def test_calibration_table_of_twenty_customers_two_per_decile() -> None:
    predicted, churned = twenty()
    observed = [0.0, 0.5, 0.0, 0.5, 0.5, 0.5, 1.0, 0.5, 1.0, 1.0]
    bins = calibration_table(predicted, churned)
    assert [(b.decile, b.customers, b.observed_rate) for b in bins] == [
        (d, 2, rate) for d, rate in zip(range(1, 11), observed, strict=True)
    ]
    # decile d holds the risks (2d - 2)/20 and (2d - 1)/20: their mean is (4d - 3)/40
    assert [b.mean_predicted for b in bins] == pytest.approx([(4 * d - 3) / 40 for d in range(1, 11)])


def test_churn_scores_of_twenty_customers() -> None:
    predicted, churned = twenty()
    scores = churn_scores(predicted, churned)
    assert scores.customers == 20
    assert scores.churn_rate == pytest.approx(11 / 20)
    # ranks (1-based) of the churned: 4 8 9 12 13 14 16 17 18 19 20, sum 150; (150 - 66) / (11 * 9)
    assert scores.auc == pytest.approx(84 / 99)
    # precision at each churned customer from the top: 5 in a row, then 6/7, 7/8, 8/9, 9/12, 10/13, 11/17
    assert scores.pr_auc == pytest.approx((5 + 6 / 7 + 7 / 8 + 8 / 9 + 9 / 12 + 10 / 13 + 11 / 17) / 11)
    # stayed: sum of i^2 = 459; churned: sum of (20 - i)^2 = 851; over 400 and 20 customers
    assert scores.brier == pytest.approx((459 + 851) / 400 / 20)
    # |mean predicted - observed| per decile: .025 .375 .225 .175 .075, then the same five again
    assert scores.calibration_error == pytest.approx(0.175)
    # the top two (risk .90 and .95) both churned: 1 / (11/20)
    assert scores.top_decile_lift == pytest.approx(20 / 11)
    assert scores.calibration == calibration_table(predicted, churned)


def test_churn_scores_of_four_customers_fill_four_deciles() -> None:
    scores = churn_scores(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    assert scores.auc == pytest.approx(0.75)
    assert scores.pr_auc == pytest.approx((1 + 2 / 3) / 2)
    assert scores.brier == pytest.approx((0.1**2 + 0.4**2 + 0.65**2 + 0.2**2) / 4)
    assert [(b.decile, b.customers, b.mean_predicted, b.observed_rate) for b in scores.calibration] == [
        (1, 1, 0.1, 0.0),  # ranks 0..3 of 4 fall in deciles 1, 3, 6 and 8
        (3, 1, 0.35, 1.0),
        (6, 1, 0.4, 0.0),
        (8, 1, 0.8, 1.0),
    ]
    assert scores.calibration_error == pytest.approx((0.1 + 0.65 + 0.4 + 0.2) / 4)
    assert scores.top_decile_lift == pytest.approx(1 / 0.5)  # fewer than 10: the highest risk alone


@pytest.mark.parametrize("outcome", [0, 1])
def test_churn_scores_refuse_a_single_outcome(outcome: int) -> None:
    with pytest.raises(ValueError, match="churned and retained"):
        churn_scores(np.array([0.2, 0.5, 0.7]), np.full(3, outcome))


def test_value_scores_of_ten_customers() -> None:
    predicted = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], dtype=float)
    actual = np.array([0, 25, 30, 0, 60, 50, 70, 100, 0, 200], dtype=float)
    scores = value_scores(predicted, actual)
    assert scores.customers == 10
    assert scores.actual_total == 535.0
    assert scores.predicted_total == 550.0
    assert scores.mae == pytest.approx((10 + 5 + 0 + 40 + 10 + 10 + 0 + 20 + 90 + 100) / 10)
    assert scores.aggregate_error == pytest.approx(15 / 535)
    assert scores.top_decile_capture == pytest.approx(200 / 535)  # the top predicted spent 200


def test_value_scores_of_a_small_set_with_tied_top_predictions() -> None:
    scores = value_scores(np.array([3.0, 1.0, 3.0]), np.array([10.0, 50.0, 40.0]))
    assert scores.mae == pytest.approx((7 + 49 + 37) / 3)
    assert scores.aggregate_error == pytest.approx(-0.93)
    assert scores.top_decile_capture == pytest.approx(0.5)  # both predicted 3: 10 + 40 of 100


def test_value_scores_without_spend_have_no_relative_figures() -> None:
    scores = value_scores(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert (scores.customers, scores.actual_total, scores.predicted_total, scores.mae) == (2, 0.0, 3.0, 1.5)
    assert math.isnan(scores.aggregate_error)
    assert math.isnan(scores.top_decile_capture)
    empty = value_scores(np.array([]), np.array([]))
    assert (empty.customers, empty.mae) == (0, 0.0)
