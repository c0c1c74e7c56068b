"""Rolling backtests: each cutoff's customers scored by models trained one horizon earlier, then compared.

Snapshot k is the day as_of - k * horizon. Backtest cutoff k (k = 1 .. folds) scores the customers of
snapshot k with the churn models trained on snapshot k + 1 (whose outcome, the horizon after it, had
happened by snapshot k's day) and with the buy-till-you-die models fitted on snapshot k's histories,
and compares them with what the customers did in the horizon after snapshot k. No purchase, session or
amount a model sees comes after the cutoff it is scored at; refunds are the exception (orders are netted
as of as_of, see sql/predict/activity_periods.sql).
"""

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from tasks.predict.metrics import ChurnScores, ValueScores, churn_scores, value_scores
from tasks.predict.models import (
    Activity,
    ChurnClassifier,
    Lifetimes,
    RecencyBaseline,
    churned,
    fit_lifetimes,
    forecast,
)

CLASSIFIER = "gradient_boosting"
RECENCY = "recency_baseline"
BGNBD = "bgnbd"
LIFETIME_VALUE = "bgnbd_gamma_gamma"
LAST_PERIOD = "last_period_spend"
CHURN_MODELS = (CLASSIFIER, RECENCY, BGNBD)
MIN_PER_OUTCOME = 10  # churners and stayers a snapshot needs to train or be backtested
VALUE_MODELS = (LIFETIME_VALUE, LAST_PERIOD)


@dataclass(frozen=True)
class Snapshot:
    """One snapshot's customers (a seeded sample of them for training and backtests)."""

    index: int  # periods back from as_of
    day: date
    customers: pl.DataFrame  # the population churn applies to
    payers: pl.DataFrame  # those with a purchase: the buy-till-you-die models' customers


@dataclass(frozen=True)
class ChurnModels:
    """The churn models fitted on one labelled snapshot."""

    trained_on: date
    rows: int
    classifier: ChurnClassifier
    baseline: RecencyBaseline


@dataclass(frozen=True)
class Fold:
    """One backtest cutoff: each model's figures against what happened in the horizon after it."""

    cutoff: date
    trained_on: date
    churn: dict[str, ChurnScores]
    value: dict[str, ValueScores]


@dataclass(frozen=True)
class Skipped:
    """A backtest cutoff that could not be scored, and why."""

    cutoff: date
    reason: str


@dataclass
class Backtest:
    """All backtest cutoffs of one as_of, newest first."""

    folds: list[Fold] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    newest: tuple[ChurnModels, Snapshot] | None = None  # the newest cutoff's models and customers

    def mean(self, role: str, model: str, metric: str) -> float | None:
        """A metric of a model averaged over the cutoffs that scored it (None if none did)."""
        values = [
            getattr(getattr(fold, role)[model], metric) for fold in self.folds if model in getattr(fold, role)
        ]
        values = [v for v in values if v is not None and np.isfinite(v)]
        return float(np.mean(values)) if values else None


def usable(snapshot: Snapshot, activity: Activity, min_customers: int, labelled: bool) -> str | None:
    """Why a snapshot cannot train or be scored (None if it can)."""
    frame = snapshot.customers
    if frame.height < min_customers:
        return (
            f"{frame.height} customers at {snapshot.day} (fewer than predict.min_customers = {min_customers})"
        )
    if labelled:
        churners = int(churned(frame, activity).sum())
        fewest = min(churners, frame.height - churners)
        kind = "churned" if churners == fewest else "stayed"
        if fewest == 0:
            everyone = "churned" if churners else "stayed"
            return f"every customer of {snapshot.day} {everyone}: a model cannot learn from one outcome"
        if fewest < MIN_PER_OUTCOME:
            return (
                f"{fewest} customer(s) of {snapshot.day} {kind}: a model needs at least {MIN_PER_OUTCOME} "
                "of each outcome to learn from"
            )
    return None


def train_churn(snapshot: Snapshot, activity: Activity, seed: int) -> ChurnModels:
    """Fit the classifier and the recency baseline on a labelled snapshot."""
    labels = churned(snapshot.customers, activity)
    return ChurnModels(
        trained_on=snapshot.day,
        rows=snapshot.customers.height,
        classifier=ChurnClassifier(random_state=seed).fit(snapshot.customers, labels),
        baseline=RecencyBaseline(activity).fit(snapshot.customers, labels),
    )


def score_fold(
    models: ChurnModels,
    lifetimes: Lifetimes | None,
    snapshot: Snapshot,
    activity: Activity,
    horizon: int,
) -> Fold:
    """Every model's figures at one backtest cutoff."""
    customers = snapshot.customers
    labels = churned(customers, activity)
    churn = {
        CLASSIFIER: churn_scores(models.classifier.predict(customers), labels),
        RECENCY: churn_scores(models.baseline.predict(customers), labels),
    }
    value: dict[str, ValueScores] = {}
    payers = snapshot.payers
    if lifetimes is not None and payers.height:
        predicted = forecast(lifetimes, payers, horizon)
        if activity.name == "purchase":
            churn[BGNBD] = churn_scores(predicted.p_no_purchase, churned(payers, activity))
        actual = payers["future_spend"].cast(pl.Float64).to_numpy()
        if np.isfinite(predicted.predicted_value).all():
            value[LIFETIME_VALUE] = value_scores(predicted.predicted_value, actual)
        value[LAST_PERIOD] = value_scores(payers["spend_last"].cast(pl.Float64).to_numpy(), actual)
    return Fold(cutoff=snapshot.day, trained_on=models.trained_on, churn=churn, value=value)


def run_backtest(
    snapshots: dict[int, Snapshot],
    folds: int,
    activity: Activity,
    horizon: int,
    min_customers: int,
    seed: int,
    penalizer: float = 0.0,
) -> Backtest:
    """Score backtest cutoffs 1..folds (snapshots 1..folds + 1 must be given)."""
    result = Backtest()
    for k in range(1, folds + 1):
        scored, trained = snapshots[k], snapshots[k + 1]
        reason = usable(trained, activity, min_customers, labelled=True) or usable(
            scored, activity, min_customers, labelled=True
        )
        if reason:
            result.skipped.append(Skipped(scored.day, reason))
            continue
        lifetimes = (
            fit_lifetimes(scored.payers, min_customers, penalizer)
            if scored.payers.height >= min_customers
            else None
        )
        models = train_churn(trained, activity, seed)
        result.newest = result.newest or (models, scored)
        result.folds.append(score_fold(models, lifetimes, scored, activity, horizon))
    return result


def choose_churn_model(backtest: Backtest) -> tuple[str, str]:
    """The model behind churn_risk and the risk tiers, and why: the classifier if its mean AUC beats the
    recency baseline's, else BG/NBD if it does, else the baseline itself. BG/NBD is chosen over a classifier
    that beats the baseline too when it ranks better (mean AUC) and its probabilities are closer (mean Brier
    score): on CDNOW-like shops, purchases only, it does."""
    if not backtest.folds:
        return (
            RECENCY,
            "no backtest cutoff could be scored, so no model is shown to beat the recency baseline",
        )
    baseline = backtest.mean("churn", RECENCY, "auc")
    auc, brier = (
        {m: backtest.mean("churn", m, metric) for m in (CLASSIFIER, BGNBD)} for metric in ("auc", "brier")
    )
    if (
        baseline is not None
        and None not in (*auc.values(), *brier.values())
        and auc[BGNBD] > auc[CLASSIFIER] > baseline
        and brier[BGNBD] < brier[CLASSIFIER]
    ):
        shown, against = auc_pair(auc[BGNBD], baseline)
        lower, higher = auc_pair(brier[BGNBD], brier[CLASSIFIER])
        return BGNBD, (
            f"mean backtest AUC {shown} beats the recency baseline's {against} and the gradient boosting's "
            f"{auc_pair(auc[BGNBD], auc[CLASSIFIER])[1]}, with a lower Brier score ({lower} against {higher})"
        )
    for model in (CLASSIFIER, BGNBD):
        if auc[model] is not None and baseline is not None and auc[model] > baseline:
            shown, against = auc_pair(auc[model], baseline)
            return model, f"mean backtest AUC {shown} beats the recency baseline's {against}"
    shown = [f"the gradient boosting's mean backtest AUC {_auc(auc[CLASSIFIER])}"]
    if auc[BGNBD] is not None:
        shown.append(f"BG/NBD's {_auc(auc[BGNBD])}")
    return RECENCY, f"{' and '.join(shown)} do not beat the recency baseline's {_auc(baseline)}"


def auc_pair(auc: float, baseline: float) -> tuple[str, str]:
    """Two AUCs (or Brier scores) as text, to three places, or four where three would show different values as
    equal ("0.500 beats 0.500" said nothing, nor "a lower Brier score (0.134 against 0.134)")."""
    digits = 4 if auc != baseline and f"{auc:.3f}" == f"{baseline:.3f}" else 3
    return f"{auc:.{digits}f}", f"{baseline:.{digits}f}"


def _auc(value: float | None) -> str:
    return "(not scored)" if value is None else f"{value:.3f}"
