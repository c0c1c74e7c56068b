"""How good a prediction was, once the horizon after its cutoff has happened: pure functions over arrays."""

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

DECILES = 10


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of predicted churn risk: how many customers, the mean prediction and what happened."""

    decile: int  # 1 = the lowest predicted risk
    customers: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True)
class ChurnScores:
    """A churn model's figures on one backtest cutoff."""

    customers: int
    churn_rate: float
    auc: float
    pr_auc: float
    brier: float
    calibration_error: float  # mean over deciles of |mean predicted - observed rate|
    top_decile_lift: float  # churn rate among the top 10% predicted risk / churn rate of all
    calibration: tuple[CalibrationBin, ...]


@dataclass(frozen=True)
class ValueScores:
    """A value forecast's figures on one backtest cutoff (amounts in the base currency)."""

    customers: int
    actual_total: float
    predicted_total: float
    mae: float  # mean over customers of |predicted - actual|
    aggregate_error: float  # (predicted total - actual total) / actual total
    top_decile_capture: float  # share of the actual total spent by the top 10% predicted


def decile_of_rank(scores: np.ndarray) -> np.ndarray:
    """Deciles 1..10 of equal size by score (ties broken by position, so every decile is filled)."""
    order = np.argsort(scores, kind="stable")
    deciles = np.empty(scores.size, dtype=np.int64)
    deciles[order] = np.arange(scores.size) * DECILES // max(scores.size, 1) + 1
    return deciles


def calibration_table(predicted: np.ndarray, churned: np.ndarray) -> tuple[CalibrationBin, ...]:
    """Deciles of predicted risk with their mean prediction and observed churn rate."""
    deciles = decile_of_rank(predicted)
    bins = []
    for decile in range(1, DECILES + 1):
        inside = deciles == decile
        if inside.any():
            bins.append(
                CalibrationBin(
                    decile=decile,
                    customers=int(inside.sum()),
                    mean_predicted=float(predicted[inside].mean()),
                    observed_rate=float(churned[inside].mean()),
                )
            )
    return tuple(bins)


def top_decile(scores: np.ndarray) -> np.ndarray:
    """Mask of the top 10% by score (at least one customer), ties broken by position."""
    return decile_of_rank(scores) == DECILES if scores.size >= DECILES else scores == scores.max()


def churn_scores(predicted: np.ndarray, churned: np.ndarray) -> ChurnScores:
    """AUC, PR-AUC, Brier score, calibration and top-decile lift of churn probabilities against outcomes.

    Needs both outcomes among the customers (a ValueError otherwise: AUC is undefined).
    """
    churned = np.asarray(churned, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if churned.min(initial=1) == churned.max(initial=0):
        raise ValueError("churn scores need churned and retained customers")
    bins = calibration_table(predicted, churned)
    rate = float(churned.mean())
    return ChurnScores(
        customers=int(churned.size),
        churn_rate=rate,
        auc=float(roc_auc_score(churned, predicted)),
        pr_auc=float(average_precision_score(churned, predicted)),
        brier=float(brier_score_loss(churned, predicted)),
        calibration_error=float(np.mean([abs(b.mean_predicted - b.observed_rate) for b in bins])),
        top_decile_lift=float(churned[top_decile(predicted)].mean() / rate),
        calibration=bins,
    )


def value_scores(predicted: np.ndarray, actual: np.ndarray) -> ValueScores:
    """Per-customer MAE, aggregate error and top-decile capture of a value forecast against what was spent."""
    predicted = np.asarray(predicted, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    actual_total = float(actual.sum())
    predicted_total = float(predicted.sum())
    return ValueScores(
        customers=int(actual.size),
        actual_total=actual_total,
        predicted_total=predicted_total,
        mae=float(np.abs(predicted - actual).mean()) if actual.size else 0.0,
        aggregate_error=(predicted_total - actual_total) / actual_total if actual_total else float("nan"),
        top_decile_capture=float(actual[top_decile(predicted)].sum() / actual_total)
        if actual_total
        else float("nan"),
    )
