"""Segment stage: RFM scores and named segments in SQL, KMeans clusters with scikit-learn."""

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from prefect import get_run_logger, task

from tasks.predict import ensure_predictions
from tasks.segment.cluster_tables import Clustering, cluster_customers, fit_decision, store_model
from tasks.segment.clusters import model_summary
from tasks.segment.rfm import score_params, write_rule_table
from tasks.segment.rules import build_rule_memberships
from tasks.segment.shards import drop_parts, make_parts, parts_table, segments_from_parts, segments_into
from tasks.segment.stability import SchemeStability, compare_with_previous, stability_summary, store_stability
from tasks.segment.tags import build_tags
from tasks.shared import shards as sharding
from tasks.shared.artifacts import record_counts
from tasks.shared.config import PipelineConfig, SegmentConfig
from tasks.shared.errors import STAGE_TASK_OPTIONS
from tasks.shared.warehouse import Warehouse

# The tables one segment run replaces, in the order it builds them.
TABLES = (
    "segments.rfm_scores",
    "segments.rfm_cn_classes",
    "segments.value_lifecycle",
    "segments.rule_memberships",
    "segments.clusters",
    "segments.customer_segments",
    "segments.customer_tags",
    "segments.segment_moves",
)


@dataclass(frozen=True)
class SegmentResult:
    """What one segment run produced."""

    customers: int
    scored: int
    rfm_segments: dict[str, int]
    clusters: dict[int, int]
    cluster_model: dict = field(default_factory=dict)
    stability: dict = field(default_factory=dict)
    # whether the cluster model was fitted again this run and why, and the day it was fitted on
    cluster_refit: bool = True
    cluster_refit_reason: str = ""
    cluster_fitted_on: str | None = None
    shards: dict[int, str] = field(default_factory=dict)  # how each shard ran (a lake's shards)


def lifecycle_params(config: SegmentConfig) -> dict[str, float]:
    """The value-tier and lifecycle thresholds as SQL parameters."""
    keys = ("tier_high_share", "tier_medium_share", "new_days", "active_days", "sleeping_days")
    return {key: getattr(config, key) for key in keys}


def build_customer_segments(
    wh: Warehouse,
    horizon_days: int = 90,
    shard: Mapping[str, str] = sharding.ALL,
    clusters: str = "segments.clusters",
    memberships: str = "segments.rule_memberships",
    *,
    table: str = "segments.customer_segments",
    insert: bool = False,
) -> int:
    """segments.customer_segments: everything published about a customer, with the as_of's predictions.

    shard: the customers built (tasks/shared/shards.py); clusters and memberships: the tables of their
    clusters and rule segments; into table, replaced or (insert) added to; how many rows built.
    """
    ensure_predictions(wh)
    identifiers = {"clusters": clusters, "memberships": memberships}
    fragments = {"horizon": str(int(horizon_days)), "shard": shard["shard"]}
    if insert:
        return wh.insert(table, "segments/customer_segments", identifiers=identifiers, fragments=fragments)
    return wh.build(table, "segments/customer_segments", identifiers=identifiers, fragments=fragments)


def population_scores(wh: Warehouse, config: SegmentConfig, as_of: date) -> None:
    """The tables that rank each customer among all: RFM scores, Chinese RFM classes, value tiers (with the
    lifecycle stages)."""
    write_rule_table(wh)
    wh.build("segments.rfm_scores", "segments/rfm_scores", score_params(config))
    wh.build("segments.rfm_cn_classes", "segments/rfm_cn_classes", {"threshold": config.cn_rfm_threshold})
    wh.build(
        "segments.value_lifecycle", "segments/value_lifecycle", {"as_of": as_of, **lifecycle_params(config)}
    )


def tags_and_stability(wh: Warehouse, as_of: date) -> tuple[date | None, list[SchemeStability]]:
    """The tags view, and the stability of the as_of's segments against the previous as_of (stored)."""
    build_tags(wh)
    previous_day, stability = compare_with_previous(wh, as_of)
    store_stability(wh, as_of, previous_day, stability)
    return previous_day, stability


def segment_all(
    wh: Warehouse,
    config: SegmentConfig,
    as_of: date,
    run_id: str | None = None,
    horizon_days: int = 90,
    refit: bool = False,
    inputs_settings: dict[str, Any] | None = None,
    shard_plan: sharding.ShardPlan | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> SegmentResult:
    """Build the segments.* tables of one as_of: scores, schemes, rules, clusters, tags, stability.

    Joins the as_of's predictions (predict.customer_predictions, empty if the predict stage has not run);
    horizon_days names the expected purchases and value columns (expected_purchases_90d). Scores, tiers,
    lifecycle and rules are computed from the day's features every run; the cluster model is the stored
    one while it is fresh, fitted again when it is not or with refit (tasks.segment.cluster_tables).
    inputs_settings: settings outside the segment config that change what the features mean (currency).
    shard_plan: on a day that assigns clusters with the stored fit, the rule segments, clusters and
    customer_segments rows in the plan's shards (a lake's `shards`; tasks/segment/shards.py), after the
    population's scores are committed (the shards' processes read them); `shards` in the result says how
    each shard ran.
    """
    decided = fit_decision(wh, config, as_of, refit, inputs_settings)
    decision = decided[0]
    ran: sharding.ShardRuns | None = None
    if shard_plan is None or decision.refit:
        with wh.transaction():
            population_scores(wh, config, as_of)
            build_rule_memberships(wh, config)
            clustering = cluster_customers(wh, config, as_of, run_id, refit, inputs_settings, decided)
            customers = build_customer_segments(wh, horizon_days)
            previous_day, stability = tags_and_stability(wh, as_of)
    else:
        assert decision.fitted_on is not None
        with wh.transaction():  # committed before the shards start: they read the scores
            population_scores(wh, config, as_of)
            ensure_predictions(wh)
        parts = shard_plan.work_table
        make_parts(wh, parts, horizon_days)
        ran = sharding.run_shards(
            shard_plan,
            lambda k: segments_into(
                wh,
                config,
                decision.models,
                as_of,
                horizon_days,
                parts,
                sharding.fragments(k, shard_plan.shards),
            ),
            logger or logging.getLogger(__name__),
        )
        with wh.transaction():
            model, customers = segments_from_parts(
                wh, decision.models, decision.fitted_on, as_of, parts, shard_plan.shards
            )
            store_model(wh, as_of, run_id, model, customers)
            previous_day, stability = tags_and_stability(wh, as_of)
        drop_parts(wh, parts)
        clustering = Clustering(model, False, decision.reason, decision.fitted_on)
    sizes = dict(
        wh.rows(
            "select coalesce(rfm_segment, '(not scored)'), count(*) from segments.customer_segments "
            "group by all order by 2 desc, 1"
        )
    )
    clusters = dict(wh.rows("select cluster_id, count(*) from segments.clusters group by all order by 1"))
    return SegmentResult(
        customers=customers,
        scored=wh.count("segments.rfm_scores"),
        rfm_segments=sizes,
        clusters=clusters,
        cluster_model=model_summary(clustering.model),
        stability=stability_summary(previous_day, stability),
        cluster_refit=clustering.refit,
        cluster_refit_reason=clustering.reason,
        cluster_fitted_on=clustering.fitted_on.isoformat(),
        shards=ran.ran if ran else {},
    )


def segment_day(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date,
    run_id: str | None = None,
    *,
    refit: bool = False,
    shard_plan: sharding.ShardPlan | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> SegmentResult:
    """segment_all with what the pipeline config adds (the predictions' horizon, the settings that change what
    the features mean): the segment task's call, and that of a day run without Prefect (flows/direct.py)."""
    return segment_all(
        wh,
        config.segments,
        as_of,
        run_id,
        config.predict.horizon_days,
        refit,
        config.inputs_settings(),
        shard_plan=shard_plan,
        logger=logger,
    )


@task(name="segment", **STAGE_TASK_OPTIONS)
def segment(config: PipelineConfig, as_of: date, run_id: str | None = None, refit: bool = False) -> dict:
    """Score, segment, cluster and tag the customers in features.customer_features.

    refit: fit the cluster model again even if the stored one is fresh.
    """
    logger = get_run_logger()
    plan = sharding.plan(config, "segment", as_of, parts_table())
    with Warehouse.open(config) as wh:
        result = segment_day(wh, config, as_of, run_id, refit=refit, shard_plan=plan, logger=logger)
        built = [{"table": table, "rows": wh.count(table)} for table in TABLES]
    fitted = "fitted again" if result.cluster_refit else "stored, not fitted again"
    record_counts(
        "segment",
        built,
        f"segment as of {as_of}: rows of each table built; cluster model fitted on {result.cluster_fitted_on} "
        f"({fitted}: {result.cluster_refit_reason})",
    )
    for shard, how in sorted(result.shards.items()):
        logger.info("segment shard %d of %d: %s", shard + 1, len(result.shards), how)
    logger.info("%d customers, %d scored, segments %s", result.customers, result.scored, result.rfm_segments)
    logger.info(
        "cluster model fitted on %s (refit: %s, %s)",
        result.cluster_fitted_on,
        result.cluster_refit,
        result.cluster_refit_reason,
    )
    logger.info(
        "%d clusters (%s), silhouette %s, decision-tree fidelity %s",
        result.cluster_model["k"],
        result.cluster_model["k_method"],
        result.cluster_model["silhouette"],
        result.cluster_model["fidelity"],
    )
    return asdict(result)
