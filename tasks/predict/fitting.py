"""Fitting the predict stage's models as of a day, and building the snapshot a day is scored on.

fit_models builds every snapshot (sql/predict/activity_periods.sql, sql/predict/snapshots.sql), runs the
rolling backtests, chooses the churn model and fits it, the recency baseline, BG/NBD and Gamma-Gamma: a
PredictFit, which tasks.predict stores (predict.model_fits) and later days score with. scored_snapshot
builds only snapshot 0 of a day, all its customers, for a day scored with stored models.
"""

import pickle
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from tasks.predict.backtest import (
    BGNBD,
    CLASSIFIER,
    RECENCY,
    Backtest,
    ChurnModels,
    Snapshot,
    choose_churn_model,
    run_backtest,
    train_churn,
    usable,
)
from tasks.predict.model_store import settings_hash
from tasks.predict.models import (
    ACTIVITIES,
    Activity,
    Lifetimes,
    churned,
    fit_lifetimes,
    forecast,
    sample,
)
from tasks.shared import shards as sharding
from tasks.shared.config import FeatureConfig, PredictConfig
from tasks.shared.scoring import score_rows
from tasks.shared.warehouse import Warehouse

IMPORTANCE_ROWS = 5_000  # customers of the newest backtest cutoff the permutation importances are measured on
IMPORTANCE_REPEATS = 3  # shuffles of each input

# The code a stored fit depends on: another version of any of them fits again.
FIT_SOURCES = (
    "tasks/predict/__init__.py",
    "tasks/predict/fitting.py",
    "tasks/predict/models.py",
    "tasks/predict/btyd.py",
    "tasks/predict/backtest.py",
    "tasks/predict/metrics.py",
    "sql/predict/activity_periods.sql",
    "sql/predict/scored_periods.sql",
    "sql/predict/snapshots.sql",
)
# PredictConfig settings that do not change a fit: tiers are cut in SQL, the schedule decides when to fit.
NOT_FIT_SETTINGS = {"enabled", "risk_tiers", "refit_every_days"}


@dataclass
class PredictFit:
    """What one fit day fitted and measured, kept in predict.model_fits for the days that score with it."""

    fit_day: date
    churn_model: str | None = None  # the model behind churn_risk (None: no snapshot could train one)
    churn_model_reason: str = ""
    churn: ChurnModels | None = None  # the classifier and the recency baseline
    lifetimes: Lifetimes | None = None  # BG/NBD and Gamma-Gamma
    models: list[dict[str, Any]] = field(default_factory=list)  # rows of predict.models
    backtest: list[dict[str, Any]] = field(default_factory=list)  # rows of predict.backtests
    calibration: list[dict[str, Any]] = field(default_factory=list)  # rows of predict.calibration
    backtest_means: dict[str, dict[str, float | None]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    feature_importances: dict[str, float] = field(default_factory=dict)

    def churn_risk(self, current: Snapshot, horizon: int) -> np.ndarray | None:
        """P(churn) of the customers of a scored snapshot from the chosen model (None without one)."""
        risk = None
        if self.churn is not None and self.churn_model == CLASSIFIER:
            risk = self.churn.classifier.predict(current.customers)
        elif self.churn is not None and self.churn_model == RECENCY:
            risk = self.churn.baseline.predict(current.customers)
        if self.lifetimes is not None and self.churn_model == BGNBD:
            risk = forecast(self.lifetimes, current.customers, horizon).p_no_purchase
        return risk


def snapshot_day(as_of: date, horizon: int, index: int) -> date:
    """The day of snapshot `index`: as_of minus that many horizons."""
    return as_of - timedelta(days=horizon * index)


def load_snapshot(
    wh: Warehouse, activity: Activity, as_of: date, horizon: int, index: int, rows: int | None, seed: int
) -> Snapshot:
    """One snapshot's customers and payers from _snapshots; a seeded sample of `rows` of each if given."""
    day = snapshot_day(as_of, horizon, index)

    def read(population: str) -> pl.DataFrame:
        order = "customer_id" if rows is None else f"hash(customer_id, $seed), customer_id limit {int(rows)}"
        return wh.frame(
            f"select * from _snapshots where snapshot = $snapshot and {population} > 0 order by {order}",
            {"snapshot": index} | ({} if rows is None else {"seed": seed}),
        )

    customers = read(activity.population)
    payers = customers if activity.population == "purchase_days" else read("purchase_days")
    return Snapshot(index=index, day=day, customers=customers, payers=payers)


def build_activity_periods(
    wh: Warehouse,
    as_of: date,
    horizon: int,
    oldest: int,
    session_types: list[str],
    detailed: int | None = None,
    since: date | None = None,
    table: str = "_activity_periods",
    shard: Mapping[str, str] = sharding.ALL,
) -> int:
    """The temp table _activity_periods (or table): purchases and sessions per customer and period (older
    than `oldest` periods back: all in period `oldest`).

    detailed: the periods before it keep sessions by category (favourite_game, session_minutes as
    defined); default every period. A later period has no favourite game. since: sessions are read only
    after this date (build_scored_snapshot adds the older ones). shard: the customers of one shard only
    (tasks/shared/shards.py).
    """
    return wh.build(
        table,
        "predict/activity_periods",
        {
            "as_of": as_of,
            "horizon": horizon,
            "oldest": oldest,
            "session_types": session_types,
            "detailed": oldest + 1 if detailed is None else detailed,
            "since": since,
        },
        temp=True,
        fragments=shard,
    )


def build_snapshots(wh: Warehouse, config: PredictConfig, features: FeatureConfig, as_of: date) -> int:
    """Build the temp tables _activity_periods and _snapshots of one as_of; return the snapshot rows.

    Snapshots 0 .. folds + 1 are needed, and the one before the oldest for its "previous" horizon; older
    periods are only summed. The past snapshots keep a seeded share of the customers: about
    max_training_rows of those churn applies to as of as_of, so no past snapshot, where fewer customers
    had started, has more.
    """
    snapshots = list(range(config.backtest_folds + 2))
    build_activity_periods(wh, as_of, config.horizon_days, snapshots[-1] + 2, features.session_event_types)
    population = ACTIVITIES[config.churn_activity].population
    customers = wh.scalar(f"select count(distinct customer_id) from _activity_periods where {population} > 0")
    return wh.build(
        "_snapshots",
        "predict/snapshots",
        {
            "as_of": as_of,
            "horizon": config.horizon_days,
            "snapshots": snapshots,
            "sample_share": min(1.0, config.max_training_rows / max(customers or 0, 1)),
            "seed": config.random_state,
        },
        temp=True,
    )


def build_scored_snapshot(
    wh: Warehouse,
    config: PredictConfig,
    features: FeatureConfig,
    as_of: date,
    shard: Mapping[str, str] = sharding.ALL,
) -> int:
    """Build _activity_periods and _snapshots with snapshot 0 only (a day scored with stored models).

    Snapshot 0 sums every period and keeps periods 0 and 1 apart, so it equals snapshot 0 of
    build_snapshots (amounts are decimals and sessions integers: their sums do not depend on how the
    periods are cut). Only period 0 is summed by category: snapshot 0 reads its favourite game and
    session minutes from period 0 alone. The roll-up is read for periods 0 and 1 only; the older
    sessions are the rest of the day's features.customer_features.sessions_total
    (sql/predict/scored_periods.sql), so the features of as_of must be built. shard: the customers of one
    shard only (tasks/shared/shards.py).
    """
    horizon = config.horizon_days
    since = as_of - timedelta(days=2 * horizon)
    build_activity_periods(
        wh,
        as_of,
        horizon,
        2,
        features.session_event_types,
        detailed=1,
        since=since,
        table="_recent_periods",
        shard=shard,
    )
    wh.build("_activity_periods", "predict/scored_periods", temp=True, fragments=shard)
    wh.execute("drop table _recent_periods")
    return wh.build(
        "_snapshots",
        "predict/snapshots",
        {
            "as_of": as_of,
            "horizon": config.horizon_days,
            "snapshots": [0],
            "sample_share": 1.0,
            "seed": config.random_state,
        },
        temp=True,
    )


def importances(models: ChurnModels, snapshot: Snapshot, activity: Activity, seed: int) -> dict[str, float]:
    """Permutation importance (drop in AUC) of each classifier input on a held-out backtest cutoff."""
    frame = snapshot.customers.head(IMPORTANCE_ROWS)
    labels = churned(frame, activity)
    if min(labels.sum(), labels.size - labels.sum()) < 2:  # AUC needs both outcomes
        return {}
    drops = auc_drops(
        models.classifier.model, models.classifier.matrix(frame), labels, IMPORTANCE_REPEATS, seed
    )
    ranked = sorted(zip(models.classifier.features, drops, strict=True), key=lambda item: -item[1])
    return {name: round(float(value), 4) for name, value in ranked}


def auc_drops(model: Any, matrix: np.ndarray, labels: np.ndarray, repeats: int, seed: int) -> np.ndarray:
    """Each column's mean drop in ROC AUC when it is shuffled: sklearn.inspection.permutation_importance
    with scoring="roc_auc", n_repeats=repeats and random_state=seed, to the last bit, in one scoring of the model.

    sklearn scores each column and repeat with a call of its own (inputs x repeats calls on a few thousand
    rows: 3 s of a 2,000-customer refit, 15 s on a busy machine, most of it the boosted trees' threads
    starting). Here every shuffled copy is stacked and scored at once, in row blocks of one OpenMP thread each
    (tasks.shared.scoring.score_rows). The shuffles are sklearn's: one seed
    drawn from random_state, each column shuffled from a fresh generator of that seed, each repeat shuffling
    the index again and the column already shuffled by it.
    """
    seed_drawn = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    rows, columns = matrix.shape
    # block 0 the matrix as it is, then one block per (column, repeat)
    copies = np.repeat(matrix[np.newaxis], 1 + columns * repeats, axis=0)
    for column in range(columns):
        generator, index = np.random.RandomState(seed_drawn), np.arange(rows)
        values = matrix[:, column].copy()
        for repeat in range(repeats):
            generator.shuffle(index)
            values = values[index]
            copies[1 + column * repeats + repeat, :, column] = values
    baseline, *shuffled = score_rows(model.decision_function, copies.reshape(-1, columns)).reshape(-1, rows)
    auc = roc_auc_score(labels, baseline)
    drops = np.array([auc - roc_auc_score(labels, block) for block in shuffled])
    return drops.reshape(columns, repeats).mean(axis=1)


def backtest_rows(backtest: Backtest) -> list[dict[str, Any]]:
    """The backtest as rows: one per cutoff, role, model and metric."""
    rows = []
    for fold in backtest.folds:
        for role in ("churn", "value"):
            for model, scores in getattr(fold, role).items():
                for metric, value in asdict(scores).items():
                    if metric != "calibration":
                        rows.append(
                            {
                                "cutoff": fold.cutoff,
                                "trained_on": fold.trained_on,
                                "role": role,
                                "model": model,
                                "metric": metric,
                                "value": float(value),
                            }
                        )
    return rows


def calibration_rows(backtest: Backtest) -> list[dict[str, Any]]:
    """The calibration tables of every cutoff and churn model."""
    return [
        {"cutoff": fold.cutoff, "model": model, **asdict(bin_)}
        for fold in backtest.folds
        for model, scores in fold.churn.items()
        for bin_ in scores.calibration
    ]


def backtest_means(backtest: Backtest) -> dict[str, dict[str, float | None]]:
    """Each model's metrics averaged over the cutoffs."""
    churn_metrics = ("auc", "pr_auc", "brier", "calibration_error", "top_decile_lift", "churn_rate")
    value_metrics = ("mae", "aggregate_error", "top_decile_capture")
    means = {}
    for role, metrics in (("churn", churn_metrics), ("value", value_metrics)):
        models = sorted({model for fold in backtest.folds for model in getattr(fold, role)})
        for model in models:
            means[model] = {metric: backtest.mean(role, model, metric) for metric in metrics}
    return means


def fit_settings_hash(
    config: PredictConfig, features: FeatureConfig, inputs: dict[str, Any] | None = None
) -> str:
    """The hash of what a fit depends on: the predict and feature settings, inputs' meaning, the code."""
    settings = {
        "predict": config.model_dump(mode="json", exclude=NOT_FIT_SETTINGS),
        "features": features.model_dump(mode="json"),
        "inputs": inputs or {},
    }
    return settings_hash(settings, FIT_SOURCES)


def fit_models(
    wh: Warehouse, config: PredictConfig, features: FeatureConfig, as_of: date
) -> tuple[PredictFit, Snapshot]:
    """Build every snapshot, backtest, choose and fit the models as of a day; return them and snapshot 0."""
    activity = ACTIVITIES[config.churn_activity]
    horizon = config.horizon_days
    seed = config.random_state
    build_snapshots(wh, config, features, as_of)
    snapshots = {
        k: load_snapshot(wh, activity, as_of, horizon, k, None if k == 0 else config.max_training_rows, seed)
        for k in range(config.backtest_folds + 2)
    }
    current = snapshots[0]
    backtest = run_backtest(
        snapshots,
        config.backtest_folds,
        activity,
        horizon,
        config.min_customers,
        seed,
        config.btyd_penalizer,
    )
    model, reason = choose_churn_model(backtest)
    fit = PredictFit(
        fit_day=as_of,
        churn_model=model,
        churn_model_reason=reason,
        backtest=backtest_rows(backtest),
        calibration=calibration_rows(backtest),
        backtest_means=backtest_means(backtest),
        skipped=[{"cutoff": s.cutoff.isoformat(), "reason": s.reason} for s in backtest.skipped],
    )
    not_trainable = usable(snapshots[1], activity, config.min_customers, labelled=True)
    if not_trainable:
        fit.churn_model = None
        fit.churn_model_reason = f"no churn risk: {not_trainable}"
    else:
        trained = train_churn(snapshots[1], activity, seed)
        fit.churn = trained
        if backtest.newest is not None:
            fit.feature_importances = importances(*backtest.newest, activity, seed)
        fit.models += [
            {
                "model": CLASSIFIER,
                "role": "churn",
                "trained_on": trained.trained_on,
                "training_rows": trained.rows,
                "used": model == CLASSIFIER,
                "parameters": trained.classifier.model.get_params()
                | {"features": trained.classifier.features},
                "feature_importances": fit.feature_importances,
                "fitted": pickle.dumps(trained.classifier),
            },
            {
                "model": RECENCY,
                "role": "churn",
                "trained_on": trained.trained_on,
                "training_rows": trained.rows,
                "used": model == RECENCY,
                "parameters": {
                    "recency": activity.recency,
                    "band_edges_days": trained.baseline.edges.tolist(),
                    "band_churn_rates": trained.baseline.rates.tolist(),
                },
            },
        ]
    if current.payers.height >= config.min_customers:
        fit.lifetimes = fit_lifetimes(
            sample(current.payers, config.max_training_rows, seed),
            config.min_customers,
            config.btyd_penalizer,
        )
    if fit.lifetimes is not None:
        gamma_gamma = fit.lifetimes.gamma_gamma
        # BG/NBD always gives P(alive) and expected purchases (value); churn_risk only when chosen
        fit.models.append(
            {
                "model": BGNBD,
                "role": "churn" if fit.churn_model == BGNBD else "value",
                "trained_on": as_of,
                "training_rows": min(config.max_training_rows, current.payers.height),
                "used": True,
                "parameters": asdict(fit.lifetimes.bgnbd),
            }
        )
        if gamma_gamma is not None:
            fit.models.append(
                {
                    "model": "gamma_gamma",
                    "role": "value",
                    "trained_on": as_of,
                    "training_rows": int(gamma_gamma.n_customers),
                    "used": True,
                    "parameters": asdict(gamma_gamma),
                }
            )
    return fit, current


def scored_snapshot(
    wh: Warehouse,
    config: PredictConfig,
    features: FeatureConfig,
    as_of: date,
    shard: Mapping[str, str] = sharding.ALL,
) -> Snapshot:
    """Snapshot 0 of a day, all its customers and payers (or one shard's), from the day's inputs only."""
    build_scored_snapshot(wh, config, features, as_of, shard)
    activity = ACTIVITIES[config.churn_activity]
    return load_snapshot(wh, activity, as_of, config.horizon_days, 0, None, config.random_state)
