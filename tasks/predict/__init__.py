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
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import polars as pl
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import TaskRunContext

from tasks.predict.backtest import Backtest, Snapshot
from tasks.predict.fitting import (
    backtest_rows,
    calibration_rows,
    fit_models,
    fit_settings_hash,
    scored_snapshot,
)
from tasks.predict.fitting import (
    build_activity_periods as build_activity_periods,
)
from tasks.predict.model_store import decide, store_fit
from tasks.predict.models import ACTIVITIES, Lifetimes, forecast
from tasks.predict.shards import parts_table, scores_from_shards
from tasks.predict.summary import near_chance, render_markdown
from tasks.shared import shards as sharding
from tasks.shared.artifacts import record_counts
from tasks.shared.config import FeatureConfig, PipelineConfig, PredictConfig
from tasks.shared.errors import STAGE_TASK_OPTIONS, DataError
from tasks.shared.warehouse import Warehouse

FITS = "predict.model_fits"


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
    shards: dict[int, str] = field(default_factory=dict)  # how each shard of the scores ran (a lake's shards)


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


def predict_all(
    wh: Warehouse,
    config: PredictConfig,
    features: FeatureConfig,
    as_of: date,
    run_id: str | None = None,
    refit: bool = False,
    inputs_settings: dict[str, Any] | None = None,
    *,
    shard_plan: sharding.ShardPlan | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> PredictResult:
    """Score as of a day with the stored models, or backtest, fit and store them first; replace
    predict.customer_predictions and the as_of's history (the fit day's backtest and calibration).

    refit: fit again even if the stored fit is fresh. inputs_settings: settings outside the predict and
    feature configs that change what the inputs mean (currency, time zone), part of the fit's hash.
    shard_plan: on a day scored with the stored models, score in the plan's shards (a lake's `shards`;
    tasks/predict/shards.py); `shards` in the result says how each ran.
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
        elif shard_plan is not None:
            fit = decision.models  # scored in shards below
        else:
            fit, current = decision.models, scored_snapshot(wh, config, features, as_of)
        result.refit, result.refit_reason = decision.refit, decision.reason
        result.fitted_on = fit.fit_day.isoformat()
    else:
        result.refit_reason = "predict.enabled is false: nothing fitted"

    scores = pl.DataFrame(schema=NO_SCORES)
    if fit is not None:
        result.churn_model, result.churn_model_reason = fit.churn_model, fit.churn_model_reason
        result.feature_importances = fit.feature_importances
        if fit.lifetimes is not None:
            gamma_gamma = fit.lifetimes.gamma_gamma
            result.bgnbd = asdict(fit.lifetimes.bgnbd)
            result.gamma_gamma = None if gamma_gamma is None else asdict(gamma_gamma)
        if current is not None:
            scores = scores_frame(current, fit.churn_risk(current, horizon), fit.lifetimes, horizon)
        elif shard_plan is not None:
            scores, ran = scores_from_shards(
                wh, fit, config, features, shard_plan, logger or logging.getLogger(__name__), scores
            )
            result.shards = ran.ran
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


def predict_day(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date,
    run_id: str | None = None,
    *,
    refit: bool = False,
    shard_plan: sharding.ShardPlan | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> PredictResult:
    """predict_all with what the pipeline config adds (the settings that change what the inputs mean): the
    predict task's call, and that of a day run without Prefect (flows/direct.py)."""
    return predict_all(
        wh,
        config.predict,
        config.features,
        as_of,
        run_id,
        refit,
        config.inputs_settings(),
        shard_plan=shard_plan,
        logger=logger,
    )


@task(name="predict", **STAGE_TASK_OPTIONS)
def predict(config: PipelineConfig, as_of: date, run_id: str | None = None, refit: bool = False) -> dict:
    """Score every customer as of the day with the stored churn and value models, fitting and
    backtesting them again when they are stale or refit is asked for."""
    logger = get_run_logger()
    plan = sharding.plan(config, "predict", as_of, parts_table())
    with Warehouse.open(config) as wh:
        result = predict_day(wh, config, as_of, run_id, refit=refit, shard_plan=plan, logger=logger)
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
    if (best := near_chance(result.backtest_means)) is not None:
        logger.warning(
            "predict as of %s: no churn model tells churners from the others (best mean backtest AUC %.3f; 0.5 "
            "is a coin toss): the risk tiers, churn_risk and the audiences built on them are close to random",
            as_of,
            best,
        )
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
