"""Predict stage: churn risk and future value per customer, backtested against simple baselines.

Inputs in SQL (sql/predict/): every customer's purchases and sessions by period of `horizon_days`,
and from them a snapshot of each customer every horizon back from as_of, with what they did in the
horizon after it. Models in Python (tasks/predict/models.py): gradient boosting and a recency baseline
for churn, BG/NBD and Gamma-Gamma (tasks/predict/btyd.py) for purchases, P(alive) and value. Rolling
backtests (tasks/predict/backtest.py) decide which churn model is used. Point in time: everything is
read from data before the end of as_of; seeds are fixed, so a backfill of a day gives the same figures.

The fitted models, with their backtest and calibration, are kept in predict.model_fits
(tasks/predict/model_store.py). A day fits and backtests again only when the stored fit is missing,
later than the day, stale (predict.refit_every_days), of other settings, code or library versions, or
when asked (refit); any other day builds only its own snapshot (no training snapshots, no backtest),
scores it with the stored models and keeps the fit day's backtest and calibration.
"""

import json
import pickle
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import TaskRunContext
from sklearn.inspection import permutation_importance

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
from tasks.predict.model_store import decide, settings_hash, store_fit
from tasks.predict.models import (
    ACTIVITIES,
    Activity,
    Lifetimes,
    churned,
    fit_lifetimes,
    forecast,
    sample,
)
from tasks.predict.summary import render_markdown
from tasks.shared.artifacts import record_counts
from tasks.shared.config import FeatureConfig, PipelineConfig, PredictConfig
from tasks.shared.errors import STAGE_TASK_OPTIONS, DataError
from tasks.shared.warehouse import Warehouse

IMPORTANCE_ROWS = 5_000  # customers of the newest backtest cutoff the permutation importances are measured on
FITS = "predict.model_fits"
# The code a stored fit depends on: another version of any of them fits again.
FIT_SOURCES = (
    "tasks/predict/__init__.py",
    "tasks/predict/models.py",
    "tasks/predict/btyd.py",
    "tasks/predict/backtest.py",
    "tasks/predict/metrics.py",
    "sql/predict/activity_periods.sql",
    "sql/predict/snapshots.sql",
)
# PredictConfig settings that do not change a fit: tiers are cut in SQL, the schedule decides when to fit.
NOT_FIT_SETTINGS = {"enabled", "risk_tiers", "refit_every_days"}
# Periods a scored snapshot (0) needs apart: the last and the previous horizon; older ones are only summed.
SCORING_PERIODS = 2


@dataclass
class PredictResult:
    """What one predict run produced, for the run summary, the artifact and the report."""

    as_of: str
    horizon_days: int
    churn_activity: str
    rows: int = 0  # of predict.customer_predictions: customers with a churn risk or a value forecast
    customers: int = 0  # scored for churn
    payers: int = 0  # given P(alive), expected purchases and value
    churn_model: str | None = None
    churn_model_reason: str = ""
    risk_tiers: dict[str, int] = field(default_factory=dict)
    backtest: list[dict[str, Any]] = field(default_factory=list)  # one row per cutoff, model and role
    backtest_means: dict[str, dict[str, float | None]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    bgnbd: dict[str, float] | None = None
    gamma_gamma: dict[str, float] | None = None
    feature_importances: dict[str, float] = field(default_factory=dict)
    note: str = ""
    # whether the models were fitted (and backtested) again this run, why, and the day they were fitted on
    # (the backtest, calibration and fitted parameters above are that day's)
    refit: bool = False
    refit_reason: str = ""
    fitted_on: str | None = None


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


NO_SCORES = {
    "customer_id": pl.String,
    "churn_risk": pl.Float64,
    "p_alive": pl.Float64,
    "expected_purchases": pl.Float64,
    "predicted_value": pl.Float64,
}


def write_predictions(wh: Warehouse, scores: pl.DataFrame, as_of: date | None, config: PredictConfig) -> int:
    """Replace predict.customer_predictions with the scores of an as_of (tiers from the config's thresholds)."""
    wh.write_frame("_scores", scores, temp=True)
    rows = wh.build(
        "predict.customer_predictions",
        "predict/customer_predictions",
        {
            "as_of": as_of,
            "horizon": config.horizon_days,
            "high": config.risk_tiers.high,
            "medium": config.risk_tiers.medium,
        },
    )
    wh.execute("drop table _scores")
    return rows


def ensure_predictions(wh: Warehouse) -> None:
    """Create an empty predict.customer_predictions if the predict stage has never run on this warehouse."""
    if not wh.table_exists("predict.customer_predictions"):
        write_predictions(wh, pl.DataFrame(schema=NO_SCORES), None, PredictConfig())


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


def session_period(periods: int) -> str:
    """The period of a session (sql/predict/activity_periods.sql): a case over its instant and $start_k."""
    cases = " ".join(f"when events.ts >= $start_{k} then {k}" for k in range(periods))
    return f"case {cases} else {periods} end"


def build_activity_periods(
    wh: Warehouse, as_of: date, horizon: int, oldest: int, session_types: list[str]
) -> int:
    """The temp table _activity_periods: purchases and sessions per customer and period (older than
    `oldest` periods back: all in period `oldest`)."""
    starts = {f"start_{k}": wh.cutoff(as_of - timedelta(days=horizon * (k + 1))) for k in range(oldest)}
    return wh.build(
        "_activity_periods",
        "predict/activity_periods",
        {
            "as_of": as_of,
            "cutoff": wh.cutoff(as_of),
            "horizon": horizon,
            "oldest": oldest,
            "session_types": session_types,
            **starts,
        },
        temp=True,
        fragments={"session_period": session_period(oldest)},
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


def build_scored_snapshot(wh: Warehouse, config: PredictConfig, features: FeatureConfig, as_of: date) -> int:
    """Build _activity_periods and _snapshots with snapshot 0 only (a day scored with stored models).

    Snapshot 0 sums every period and keeps periods 0 and 1 apart, so it equals snapshot 0 of
    build_snapshots (amounts are decimals: their sums do not depend on how the periods are cut).
    """
    build_activity_periods(wh, as_of, config.horizon_days, SCORING_PERIODS, features.session_event_types)
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
    result = permutation_importance(
        models.classifier.model,
        models.classifier.matrix(frame),
        labels,
        scoring="roc_auc",
        n_repeats=3,
        random_state=seed,
    )
    ranked = sorted(
        zip(models.classifier.features, result.importances_mean, strict=True), key=lambda item: -item[1]
    )
    return {name: round(float(value), 4) for name, value in ranked}


def scores_frame(
    snapshot: Snapshot, churn_risk: np.ndarray | None, lifetimes: Lifetimes | None, horizon: int
) -> pl.DataFrame:
    """Per customer of snapshot 0: churn risk and the buy-till-you-die figures (null where they do not apply)."""
    risk = pl.DataFrame(
        {
            "customer_id": snapshot.customers["customer_id"],
            "churn_risk": pl.Series(churn_risk, dtype=pl.Float64)
            if churn_risk is not None
            else pl.Series([None] * snapshot.customers.height, dtype=pl.Float64),
        }
    )
    if lifetimes is None:
        value = pl.DataFrame(schema={k: v for k, v in NO_SCORES.items() if k != "churn_risk"})
    else:
        predicted = forecast(lifetimes, snapshot.payers, horizon)
        value = pl.DataFrame(
            {
                "customer_id": snapshot.payers["customer_id"],
                "p_alive": pl.Series(predicted.p_alive).fill_nan(None),
                "expected_purchases": pl.Series(predicted.expected_purchases).fill_nan(None),
                "predicted_value": pl.Series(predicted.predicted_value).fill_nan(None),
            }
        )
    return risk.join(value, on="customer_id", how="full", coalesce=True)


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


def store_history(
    wh: Warehouse,
    as_of: date,
    run_id: str | None,
    backtest: Backtest,
    models: list[dict[str, Any]],
) -> None:
    """Replace the as_of's rows of predict.models, predict.backtests and predict.calibration."""
    write_history(wh, as_of, run_id, backtest_rows(backtest), calibration_rows(backtest), models)


def write_history(
    wh: Warehouse,
    as_of: date,
    run_id: str | None,
    backtests: list[dict[str, Any]],
    calibration: list[dict[str, Any]],
    models: list[dict[str, Any]],
) -> None:
    """Replace the as_of's rows of predict.models, predict.backtests and predict.calibration with these rows."""
    now = datetime.now(UTC)
    model_rows = [
        {
            "as_of": as_of,
            "run_id": run_id,
            **{k: row[k] for k in ("model", "role", "trained_on", "training_rows", "used")},
            "parameters": json.dumps(row.get("parameters")),
            "feature_importances": json.dumps(row.get("feature_importances")),
            "fitted": row.get("fitted"),
            "created_at": now,
        }
        for row in models
    ]
    history = {
        "predict.models": model_rows,
        "predict.backtests": [{"as_of": as_of, **row} for row in backtests],
        "predict.calibration": [{"as_of": as_of, **row} for row in calibration],
    }
    for table, rows in history.items():
        wh.ensure(f"predict/{table.split('.')[1]}")
        wh.execute(f"delete from {table} where as_of = $as_of", {"as_of": as_of})
        if rows:
            wh.write_frame("_history_rows", pl.DataFrame(rows, infer_schema_length=None), temp=True)
            wh.execute(f"insert into {table} by name select * from _history_rows")
            wh.execute("drop table _history_rows")


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


def scored_snapshot(wh: Warehouse, config: PredictConfig, features: FeatureConfig, as_of: date) -> Snapshot:
    """Snapshot 0 of a day, all its customers and payers, from the day's inputs only."""
    build_scored_snapshot(wh, config, features, as_of)
    activity = ACTIVITIES[config.churn_activity]
    return load_snapshot(wh, activity, as_of, config.horizon_days, 0, None, config.random_state)


def predict_all(
    wh: Warehouse,
    config: PredictConfig,
    features: FeatureConfig,
    as_of: date,
    run_id: str | None = None,
    refit: bool = False,
    inputs_settings: dict[str, Any] | None = None,
) -> PredictResult:
    """Score as of a day with the stored models, or backtest, fit and store them first; replace
    predict.customer_predictions and the as_of's history (the fit day's backtest and calibration).

    refit: fit again even if the stored fit is fresh. inputs_settings: settings outside the predict and
    feature configs that change what the inputs mean (currency, time zone), part of the fit's hash.
    """
    activity = ACTIVITIES[config.churn_activity]
    horizon = config.horizon_days
    result = PredictResult(as_of=as_of.isoformat(), horizon_days=horizon, churn_activity=activity.name)
    fit, current, digest = None, None, ""
    if config.enabled:
        built = sorted(day for (day,) in wh.rows("select distinct as_of from features.customer_features"))
        if built and built != [as_of]:
            # features.orders is netted as of its day: another day's would leak refunds into as_of
            days = ", ".join(day.isoformat() for day in built)
            raise DataError(
                f"predict as of {as_of}: the features are of {days}; build the features of {as_of} first"
            )
        digest = fit_settings_hash(config, features, inputs_settings)
        decision = decide(wh, FITS, as_of, digest, config.refit_every_days, refit)
        if decision.refit:
            fit, current = fit_models(wh, config, features, as_of)
        else:
            fit, current = decision.models, scored_snapshot(wh, config, features, as_of)
        result.refit, result.refit_reason = decision.refit, decision.reason
        result.fitted_on = fit.fit_day.isoformat()
    else:
        result.refit_reason = "predict.enabled is false: nothing fitted"

    scores = pl.DataFrame(schema=NO_SCORES)
    if fit is not None and current is not None:
        result.churn_model, result.churn_model_reason = fit.churn_model, fit.churn_model_reason
        result.feature_importances = fit.feature_importances
        if fit.lifetimes is not None:
            gamma_gamma = fit.lifetimes.gamma_gamma
            result.bgnbd = asdict(fit.lifetimes.bgnbd)
            result.gamma_gamma = None if gamma_gamma is None else asdict(gamma_gamma)
        scores = scores_frame(current, fit.churn_risk(current, horizon), fit.lifetimes, horizon)
    with wh.transaction():
        if fit is not None and result.refit:
            store_fit(wh, FITS, as_of, run_id, digest, fit)
        write_predictions(wh, scores, as_of, config)
        write_history(
            wh,
            as_of,
            run_id,
            fit.backtest if fit else [],
            fit.calibration if fit else [],
            fit.models if fit else [],
        )
        for temp in ("_snapshots", "_activity_periods"):
            wh.execute(f"drop table if exists {temp}")
    result.rows = scores.height
    result.customers = int(scores["churn_risk"].is_not_null().sum())
    result.payers = int(scores["p_alive"].is_not_null().sum())
    result.risk_tiers = dict(
        wh.rows(
            "select risk_tier, count(*) from predict.customer_predictions where risk_tier is not null "
            "group by 1 order by 1"
        )
    )
    if fit is not None:
        result.backtest = [
            {**row, "cutoff": row["cutoff"].isoformat(), "trained_on": row["trained_on"].isoformat()}
            for row in fit.backtest
        ]
        result.backtest_means = fit.backtest_means
        result.skipped = fit.skipped
    if not config.enabled:
        result.note = "predict.enabled is false: no predictions"
    return result


def inputs_settings(config: PipelineConfig) -> dict[str, Any]:
    """Settings outside the stage configs that change what the model inputs mean: currency and time zone."""
    return {"currency": config.currency.model_dump(mode="json"), "timezone": config.timezone}


@task(name="predict", **STAGE_TASK_OPTIONS)
def predict(config: PipelineConfig, as_of: date, run_id: str | None = None, refit: bool = False) -> dict:
    """Score every customer as of the day with the stored churn and value models, fitting and
    backtesting them again when they are stale or refit is asked for."""
    with Warehouse.open(config) as wh:
        result = predict_all(
            wh, config.predict, config.features, as_of, run_id, refit, inputs_settings(config)
        )
    logger = get_run_logger()
    logger.info(
        "predict as of %s: models fitted on %s (refit: %s, %s)",
        as_of,
        result.fitted_on,
        result.refit,
        result.refit_reason,
    )
    logger.info(
        "predict as of %s: %d customers scored for churn (%s: %s), %d payers valued; risk tiers %s",
        as_of,
        result.customers,
        result.churn_model,
        result.churn_model_reason,
        result.payers,
        result.risk_tiers,
    )
    for skipped in result.skipped:
        logger.warning("backtest cutoff %s not scored: %s", skipped["cutoff"], skipped["reason"])
    if TaskRunContext.get() is not None:  # outside a task run there is nothing to attach it to
        create_markdown_artifact(
            markdown=render_markdown(asdict(result)),
            key="predict-backtest",
            description=f"predict as of {as_of}: models fitted on {result.fitted_on} "
            f"({'fitted again: ' if result.refit else 'stored: '}{result.refit_reason}); backtests of the fit "
            "day, the churn model used and why, risk tiers",
        )
    record_counts(
        "predict",
        [{"table": "predict.customer_predictions", "rows": result.rows}],
        f"predict as of {as_of}: customers scored with models fitted on {result.fitted_on} "
        f"(refit: {result.refit}, {result.refit_reason})",
    )
    return asdict(result)
