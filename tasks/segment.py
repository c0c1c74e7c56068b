"""Segment stage: RFM scores and named segments in SQL, KMeans clusters with scikit-learn."""

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import polars as pl
from prefect import get_run_logger, task
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from tasks.config import PipelineConfig, SegmentConfig
from tasks.errors import STAGE_TASK_OPTIONS
from tasks.rfm import CN_RFM_CLASSES, RFM_SEGMENTS
from tasks.rules import compile_rule
from tasks.warehouse import Warehouse

# Model inputs: behaviour every purchasing customer has, log-scaled so whales do not dominate.
CLUSTER_FEATURES = ("recency_days", "frequency", "monetary", "sessions_90d")


@dataclass(frozen=True)
class SegmentResult:
    """What one segment run produced."""

    customers: int
    scored: int
    rfm_segments: dict[str, int]
    clusters: dict[int, int]


def cluster_inputs(features: pl.DataFrame) -> np.ndarray:
    """The scaled model matrix: log1p of each cluster feature (negative money counts as 0), standardized."""
    matrix = features.select(
        pl.col(name).cast(pl.Float64).clip(lower_bound=0).log1p() for name in CLUSTER_FEATURES
    ).to_numpy()
    return StandardScaler().fit_transform(matrix)


def fit_clusters(features: pl.DataFrame, clusters: int, random_state: int) -> pl.DataFrame:
    """customer_id -> cluster_id, where cluster 0 has the highest mean monetary, then 1, and so on.

    Ordering clusters by value keeps ids meaningful and stable across runs even though KMeans
    numbers its clusters arbitrarily.
    """
    schema = {"customer_id": pl.String, "cluster_id": pl.Int32}
    if features.height < 2:
        return pl.DataFrame(
            {"customer_id": features["customer_id"], "cluster_id": [0] * features.height}, schema=schema
        )
    matrix = cluster_inputs(features)
    k = min(clusters, len(np.unique(matrix, axis=0)))
    if k < 2:
        return pl.DataFrame(
            {"customer_id": features["customer_id"], "cluster_id": [0] * features.height}, schema=schema
        )
    labels = KMeans(n_clusters=k, random_state=random_state, n_init=4).fit_predict(matrix)
    labelled = features.select("customer_id", "monetary", "recency_days").with_columns(
        label=pl.Series(labels)
    )
    order = (
        labelled.group_by("label")
        .agg(
            pl.col("monetary").mean().alias("mean_monetary"),
            pl.col("recency_days").mean().alias("mean_recency"),
        )
        .sort(["mean_monetary", "mean_recency", "label"], descending=[True, False, False])
        .with_row_index("cluster_id")
        .select("label", pl.col("cluster_id").cast(pl.Int32))
    )
    return labelled.join(order, on="label").select("customer_id", "cluster_id").sort("customer_id")


def write_rule_table(wh: Warehouse) -> None:
    """Load the RFM schemes' rules into segments.rfm_segment_rules and segments.rfm_cn_class_rules."""
    rules = pl.DataFrame([asdict(s) for s in RFM_SEGMENTS]).rename({"name": "segment"})
    wh.write_frame("segments.rfm_segment_rules", rules)
    wh.write_frame("segments.rfm_cn_class_rules", pl.DataFrame([asdict(c) for c in CN_RFM_CLASSES]))


def build_rule_memberships(wh: Warehouse, config: SegmentConfig) -> int:
    """segments.rule_memberships: one row per customer and rule segment it matches (exclusive groups applied)."""
    branches, params = [], {}
    for index, rule in enumerate(config.rules):
        compiled = compile_rule(rule.when, prefix=f"r{index}_")
        params |= compiled.params | {
            f"name{index}": rule.name,
            f"en{index}": rule.label_en,
            f"zh{index}": rule.label_zh,
            f"priority{index}": rule.priority,
            f"group{index}": rule.exclusive_group,
        }
        branches.append(
            f"select customer_id, $name{index} as segment, $en{index} as label_en, $zh{index} as label_zh, "
            f"$priority{index}::integer as priority, $group{index}::varchar as exclusive_group "
            f"from rule_inputs where {compiled.sql}"
        )
    matches = " union all ".join(branches) or (
        "select null::varchar as customer_id, null::varchar as segment, null::varchar as label_en, "
        "null::varchar as label_zh, null::integer as priority, null::varchar as exclusive_group where false"
    )
    wh.build_view("rule_inputs", "segments/rule_inputs")
    wh.execute(
        f"""
        create or replace table segments.rule_memberships as
        with matches as ({matches}),
        ranked as (
            select *, row_number() over (
                partition by customer_id, coalesce(exclusive_group, segment) order by priority desc, segment
            ) as n
            from matches
        )
        select customer_id, segment, label_en, label_zh, priority, exclusive_group from ranked where n = 1
        """,
        params,
    )
    wh.execute("drop view rule_inputs")
    return wh.count("segments.rule_memberships")


def lifecycle_params(config: SegmentConfig) -> dict[str, float]:
    """The value-tier and lifecycle thresholds as SQL parameters."""
    keys = ("tier_high_share", "tier_medium_share", "new_days", "active_days", "sleeping_days")
    return {key: getattr(config, key) for key in keys}


def segment_all(wh: Warehouse, config: SegmentConfig, as_of: date) -> SegmentResult:
    """Build segments.rfm_scores, segments.clusters and segments.customer_segments."""
    with wh.transaction():
        write_rule_table(wh)
        wh.build("segments.rfm_scores", "segments/rfm_scores")
        wh.build("segments.rfm_cn_classes", "segments/rfm_cn_classes", {"threshold": config.cn_rfm_threshold})
        wh.build(
            "segments.value_lifecycle",
            "segments/value_lifecycle",
            {"as_of": as_of, **lifecycle_params(config)},
        )
        build_rule_memberships(wh, config)
        features = wh.frame(
            f"select customer_id, {', '.join(CLUSTER_FEATURES)} from features.customer_features "
            "where frequency is not null order by customer_id"
        )
        wh.write_frame("segments.clusters", fit_clusters(features, config.clusters, config.random_state))
        customers = wh.build("segments.customer_segments", "segments/customer_segments")
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
    )


@task(name="segment", **STAGE_TASK_OPTIONS)
def segment(config: PipelineConfig, as_of: date) -> dict:
    """Score, segment and cluster the customers in features.customer_features."""
    with Warehouse.open(config) as wh:
        result = segment_all(wh, config.segments, as_of)
    get_run_logger().info(
        "%d customers, %d scored, segments %s", result.customers, result.scored, result.rfm_segments
    )
    return asdict(result)
