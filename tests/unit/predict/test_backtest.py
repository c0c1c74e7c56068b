"""Rolling backtests on synthetic snapshots, and the choice of the churn model from their figures."""

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from tasks.predict.backtest import (
    BGNBD,
    CLASSIFIER,
    LAST_PERIOD,
    LIFETIME_VALUE,
    MIN_PER_OUTCOME,
    RECENCY,
    Backtest,
    Fold,
    Snapshot,
    choose_churn_model,
    run_backtest,
    usable,
)
from tasks.predict.metrics import ChurnScores, churn_scores, value_scores
from tasks.predict.models import ACTIVITIES, ChurnClassifier, churned
from tests.unit.predict.snapshot_world import snapshot_frame

PURCHASE = ACTIVITIES["purchase"]
SESSION = ACTIVITIES["session"]
AS_OF = date(2026, 3, 31)
HORIZON = 30


def day(k: int) -> date:
    return AS_OF - timedelta(days=k * HORIZON)


def snapshot(k: int, frame: pl.DataFrame) -> Snapshot:
    """Snapshot k of payers (the purchase population: customers and payers are the same)."""
    return Snapshot(index=k, day=day(k), customers=frame, payers=frame)


def test_run_backtest_scores_each_cutoff_with_models_trained_one_horizon_earlier() -> None:
    frames = {k: snapshot_frame(300, seed=10 + k, snapshot=k) for k in (1, 2, 3)}
    snapshots = {k: snapshot(k, frame) for k, frame in frames.items()}
    result = run_backtest(snapshots, folds=2, activity=PURCHASE, horizon=HORIZON, min_customers=50, seed=0)
    assert result.skipped == []
    assert [(fold.cutoff, fold.trained_on) for fold in result.folds] == [(day(1), day(2)), (day(2), day(3))]
    for fold, k in zip(result.folds, (1, 2), strict=True):
        assert set(fold.churn) == {CLASSIFIER, RECENCY, BGNBD}
        assert set(fold.value) == {LIFETIME_VALUE, LAST_PERIOD}
        labels = churned(frames[k], PURCHASE)
        assert all(scores.customers == 300 for scores in fold.churn.values())
        assert fold.churn[CLASSIFIER].churn_rate == pytest.approx(labels.mean())
        # churn depends on recency alone: both recency-aware models rank well
        assert fold.churn[CLASSIFIER].auc > 0.85
        assert fold.churn[RECENCY].auc > 0.85
        # the naive value forecast is this horizon's spend again, scored against the horizon after
        assert fold.value[LAST_PERIOD] == value_scores(
            frames[k]["spend_last"].to_numpy(), frames[k]["future_spend"].to_numpy()
        )
        assert fold.value[LIFETIME_VALUE].actual_total == pytest.approx(frames[k]["future_spend"].sum())
    models, newest = result.newest
    assert newest is snapshots[1]
    assert (models.trained_on, models.rows) == (day(2), 300)
    # the newest cutoff's classifier is the one trained on snapshot 2 with the run's seed
    again = ChurnClassifier(random_state=0).fit(frames[2], churned(frames[2], PURCHASE))
    assert np.array_equal(models.classifier.predict(frames[1]), again.predict(frames[1]))


def test_run_backtest_skips_cutoffs_whose_snapshots_have_one_outcome_or_too_few_customers() -> None:
    stayed = snapshot_frame(200, seed=23, snapshot=3, churn_rate=0.0)  # nobody churned after snapshot 3
    snapshots = {
        1: snapshot(1, snapshot_frame(200, seed=21, snapshot=1)),
        2: snapshot(2, snapshot_frame(200, seed=22, snapshot=2)),
        3: snapshot(3, stayed),
        4: snapshot(4, snapshot_frame(200, seed=24, snapshot=4)),
        5: snapshot(5, snapshot_frame(20, seed=25, snapshot=5)),
    }
    result = run_backtest(snapshots, folds=4, activity=PURCHASE, horizon=HORIZON, min_customers=50, seed=0)
    assert [fold.cutoff for fold in result.folds] == [day(1)]
    one_outcome = f"every customer of {day(3)} stayed: a model cannot learn from one outcome"
    assert [(s.cutoff, s.reason) for s in result.skipped] == [
        (day(2), one_outcome),  # trained on snapshot 3
        (day(3), one_outcome),  # scored at snapshot 3
        (day(4), f"20 customers at {day(5)} (fewer than predict.min_customers = 50)"),  # trained on 5
    ]


def test_run_backtest_of_session_churn_scores_lifetime_models_only_with_enough_payers() -> None:
    customers = {k: snapshot_frame(120, seed=30 + k, snapshot=k) for k in (1, 2)}

    def backtest(payers: int) -> Fold:
        snapshots = {k: Snapshot(k, day(k), frame, frame.head(payers)) for k, frame in customers.items()}
        (fold,) = run_backtest(
            snapshots, folds=1, activity=SESSION, horizon=HORIZON, min_customers=50, seed=0
        ).folds
        return fold

    few = backtest(payers=10)
    assert set(few.churn) == {CLASSIFIER, RECENCY}  # BG/NBD's P(no purchase) is no session churn
    assert few.value == {}  # fewer payers than min_customers: no buy-till-you-die fit
    assert few.churn[RECENCY].churn_rate == pytest.approx(churned(customers[1], SESSION).mean())
    # 60 payers: BG/NBD is fitted, but with 38 repeat buyers (< 50) Gamma-Gamma is not, so no value forecast
    no_spend_model = backtest(payers=60)
    assert int((customers[1].head(60)["repeat_purchase_days"] > 0).sum()) == 38
    assert set(no_spend_model.value) == {LAST_PERIOD}
    assert no_spend_model.value[LAST_PERIOD].customers == 60
    enough = backtest(payers=120)  # 85 repeat buyers
    assert set(enough.churn) == {CLASSIFIER, RECENCY}
    assert set(enough.value) == {LIFETIME_VALUE, LAST_PERIOD}
    assert enough.value[LIFETIME_VALUE].customers == 120


def test_usable_says_why_a_snapshot_cannot_train() -> None:
    churned_all = snapshot(2, snapshot_frame(60, seed=40, churn_rate=1.0))
    assert usable(churned_all, PURCHASE, 50, labelled=False) is None
    assert usable(churned_all, PURCHASE, 50, labelled=True) == (
        f"every customer of {day(2)} churned: a model cannot learn from one outcome"
    )
    assert usable(churned_all, PURCHASE, 61, labelled=False) == (
        f"60 customers at {day(2)} (fewer than predict.min_customers = 61)"
    )
    # a single retained customer (or nine) is too few to learn from, or to hold one out for early stopping
    frame = churned_all.customers
    for stayers in (1, MIN_PER_OUTCOME - 1, MIN_PER_OUTCOME):
        mixed = frame.with_columns(
            future_purchases=pl.when(pl.int_range(pl.len()) < stayers)
            .then(1)
            .otherwise(pl.col("future_purchases"))
        )
        reason = usable(snapshot(2, mixed), PURCHASE, 50, labelled=True)
        if stayers < MIN_PER_OUTCOME:
            assert reason == (
                f"{stayers} customer(s) of {day(2)} stayed: a model needs at least {MIN_PER_OUTCOME} "
                "of each outcome to learn from"
            )
        else:
            assert reason is None


def scores_with_auc(auc: float) -> ChurnScores:
    """Churn figures with a given AUC (the other figures do not matter to the choice)."""
    return ChurnScores(
        customers=100,
        churn_rate=0.5,
        auc=auc,
        pr_auc=0.5,
        brier=0.25,
        calibration_error=0.0,
        top_decile_lift=1.0,
        calibration=(),
    )


def backtest_of(*folds: dict[str, float]) -> Backtest:
    """A backtest with one fold per dict of model -> AUC."""
    return Backtest(
        folds=[
            Fold(
                cutoff=day(k + 1),
                trained_on=day(k + 2),
                churn={model: scores_with_auc(auc) for model, auc in aucs.items()},
                value={},
            )
            for k, aucs in enumerate(folds)
        ]
    )


def test_choose_churn_model_prefers_the_classifier_when_it_beats_the_baseline() -> None:
    backtest = backtest_of(
        {CLASSIFIER: 0.80, RECENCY: 0.70, BGNBD: 0.90},
        {CLASSIFIER: 0.70, RECENCY: 0.74, BGNBD: 0.90},
    )
    assert backtest.mean("churn", CLASSIFIER, "auc") == pytest.approx(0.75)
    assert choose_churn_model(backtest) == (
        CLASSIFIER,
        "mean backtest AUC 0.750 beats the recency baseline's 0.720",
    )


def test_choose_churn_model_takes_bgnbd_when_it_ranks_and_predicts_better_than_the_classifier() -> None:
    def scored(auc: float, brier: float) -> ChurnScores:
        return replace(scores_with_auc(auc), brier=brier)

    cdnow = Backtest(
        folds=[
            Fold(
                cutoff=day(1),
                trained_on=day(2),
                churn={
                    CLASSIFIER: scored(0.86, 0.074),
                    BGNBD: scored(0.892, 0.068),
                    RECENCY: scored(0.80, 0.09),
                },
                value={},
            )
        ]
    )
    assert choose_churn_model(cdnow) == (
        BGNBD,
        "mean backtest AUC 0.892 beats the recency baseline's 0.800 and the gradient boosting's 0.860, with a "
        "lower Brier score (0.068 against 0.074)",
    )
    # better ranked but further off in its probabilities: the classifier stays
    cdnow.folds[0].churn[BGNBD] = scored(0.892, 0.08)
    assert choose_churn_model(cdnow)[0] == CLASSIFIER


def test_choose_churn_model_falls_back_to_bgnbd_then_to_the_baseline() -> None:
    bgnbd_better = backtest_of(
        {CLASSIFIER: 0.70, RECENCY: 0.72, BGNBD: 0.75},
        {CLASSIFIER: 0.70, RECENCY: 0.72},  # BG/NBD not scored here: its mean is over the first fold
    )
    assert choose_churn_model(bgnbd_better) == (
        BGNBD,
        "mean backtest AUC 0.750 beats the recency baseline's 0.720",
    )
    tie = backtest_of({CLASSIFIER: 0.72, RECENCY: 0.72, BGNBD: 0.60})
    assert choose_churn_model(tie) == (
        RECENCY,
        "the gradient boosting's mean backtest AUC 0.720 and BG/NBD's 0.600 do not beat the recency baseline's 0.720",
    )
    without_bgnbd = backtest_of({CLASSIFIER: 0.65, RECENCY: 0.70})
    assert choose_churn_model(without_bgnbd)[0] == RECENCY


def test_a_choice_between_aucs_equal_to_three_places_shows_four() -> None:
    near = backtest_of({CLASSIFIER: 0.493, RECENCY: 0.4998, BGNBD: 0.5003})
    assert choose_churn_model(near) == (BGNBD, "mean backtest AUC 0.5003 beats the recency baseline's 0.4998")


def test_choose_churn_model_without_any_scored_cutoff_is_the_baseline() -> None:
    model, reason = choose_churn_model(Backtest())
    assert model == RECENCY
    assert "no backtest cutoff could be scored" in reason


def test_backtest_mean_ignores_folds_without_the_model_and_non_finite_values() -> None:
    backtest = backtest_of({RECENCY: 0.6}, {RECENCY: float("nan")}, {RECENCY: 0.8, BGNBD: 0.5})
    assert backtest.mean("churn", RECENCY, "auc") == pytest.approx(0.7)
    assert backtest.mean("churn", BGNBD, "auc") == 0.5
    assert backtest.mean("churn", CLASSIFIER, "auc") is None


def test_scored_fold_figures_match_the_metrics_on_the_same_predictions() -> None:
    frames = {k: snapshot_frame(200, seed=50 + k, snapshot=k) for k in (1, 2)}
    result = run_backtest(
        {k: snapshot(k, f) for k, f in frames.items()},
        folds=1,
        activity=PURCHASE,
        horizon=HORIZON,
        min_customers=50,
        seed=0,
    )
    models, scored = result.newest
    labels = churned(frames[1], PURCHASE)
    assert result.folds[0].churn[RECENCY] == churn_scores(models.baseline.predict(frames[1]), labels)
    assert result.folds[0].churn[CLASSIFIER] == churn_scores(models.classifier.predict(frames[1]), labels)
    assert np.isfinite(result.folds[0].churn[BGNBD].auc)
