"""The predict stage's scores in shards (a lake's `shards`; tasks/shared/shards.py): on a day scored with the
stored models, each shard builds the scored snapshot of its customers (sql/predict/activity_periods.sql and
scored_periods.sql keep one shard's customers) and scores it with the same fit, adding its rows to the run's
work table. A customer's scores depend on their own inputs and the fit only (the classifier, BG/NBD and
Gamma-Gamma score row by row), so the shards together score every customer as one process would. A fit day
fits on every customer's history and scores in its own process.
"""

import logging
from collections.abc import Mapping
from datetime import date

import polars as pl

from tasks.predict.fitting import PredictFit, fit_settings_hash, scored_snapshot
from tasks.predict.model_store import decide
from tasks.shared import shards as sharding
from tasks.shared.config import FeatureConfig, PipelineConfig, PredictConfig
from tasks.shared.warehouse import Warehouse

PARTS = sharding.WorkTables("predict", "scores_parts_")


def parts_table() -> str:
    """A new name for a run's score shards' work table."""
    return PARTS.new()


def scores_into(
    wh: Warehouse,
    fit: PredictFit,
    config: PredictConfig,
    features: FeatureConfig,
    as_of: date,
    table: str,
    shard: Mapping[str, str],
) -> int:
    """Score the customers shard keeps with fit and add them to table, in one transaction; how many rows."""
    from tasks.predict import scores_frame

    current = scored_snapshot(wh, config, features, as_of, shard)
    scores = scores_frame(
        current, fit.churn_risk(current, config.horizon_days), fit.lifetimes, config.horizon_days
    )
    with wh.transaction():
        wh.write_frame("_shard_scores", scores, temp=True)
        rows = wh.insert(table, "predict/scores_rows", identifiers={"scores": "_shard_scores"})
        wh.execute("drop table _shard_scores")
    for temp in ("_snapshots", "_activity_periods"):
        wh.execute(f"drop table if exists {temp}")
    return rows


def scores_shard(
    wh: Warehouse, pipeline: PipelineConfig, as_of: date, shard: int, shards: int, work_table: str
) -> int:
    """Shard `shard` of `shards` of the as_of's scores with the stored fit, added to the work table the
    predict stage made for them (a shard's flow run: flows/stage_shard.py); how many rows."""
    from tasks.predict import FITS

    PARTS.check(work_table)
    if not wh.table_exists(work_table):
        return 0  # the stage no longer needs it: it went on without this shard
    config, features = pipeline.predict, pipeline.features
    digest = fit_settings_hash(config, features, pipeline.inputs_settings())
    decision = decide(wh, FITS, as_of, digest, config.refit_every_days, False)
    if decision.refit or decision.models is None:
        raise RuntimeError(
            f"predict shard as of {as_of}: no stored fit to score with ({decision.reason}); the predict stage "
            "fits and scores in its own process on such a day"
        )
    fit, part = decision.models, sharding.fragments(shard, shards)
    return sharding.added(
        wh, work_table, lambda: scores_into(wh, fit, config, features, as_of, work_table, part)
    )


def scores_from_shards(
    wh: Warehouse,
    fit: PredictFit,
    config: PredictConfig,
    features: FeatureConfig,
    plan: sharding.ShardPlan,
    logger: logging.Logger | logging.LoggerAdapter,
    empty: pl.DataFrame,
) -> tuple[pl.DataFrame, sharding.ShardRuns]:
    """The as_of's scores computed in the plan's shards (each customer once, by customer_id), and how each
    shard ran. empty: the scores' shape, for the work table (made here, after dropping killed runs' ones)."""
    parts = plan.work_table
    PARTS.drop_stale(wh)
    with wh.transaction():
        wh.write_frame("_no_scores", empty, temp=True)
        wh.build(parts, "predict/scores_rows", identifiers={"scores": "_no_scores"})
        wh.execute("drop table _no_scores")
    n = plan.shards
    ran = sharding.run_shards(
        plan,
        lambda k: scores_into(wh, fit, config, features, plan.as_of, parts, sharding.fragments(k, n)),
        logger,
    )
    scores = wh.frame(wh.model_sql("ops/rows_from_shards", identifiers={"parts": parts})).sort("customer_id")
    sharding.drop_work_table(wh, parts)
    return scores, ran
