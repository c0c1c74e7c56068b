"""The segment stage's per-customer work in shards (a lake's `shards`; tasks/shared/shards.py): on a day that
assigns clusters with the stored fit, each shard finds its customers' rule segments, assigns their clusters
and builds their rows of segments.customer_segments, adding them to the run's work tables.

What depends on the whole population is computed once, before the shards, by the stage itself and committed
for them to read: the RFM scores (quintiles by rank), the Chinese RFM classes and the value tiers (shares by
rank) and the lifecycle stages. The rest is per customer: a rule tests one customer's inputs, the stored
pipeline assigns one customer at a time, and a row of customer_segments joins one customer's rows; so the
shards together build what one process builds. The clusters' sizes and the decision tree's fidelity are
counted from the shards' rows. A fit day fits on every customer and segments in one process.

Three work tables per run: `segments.segment_parts_<id>` (customer_segments rows), `..._clusters` (segments.clusters
rows, with whether the tree agrees) and `..._rules` (segments.rule_memberships rows).
"""

from collections.abc import Mapping
from datetime import date

import polars as pl

from tasks.segment.cluster_tables import cluster_frame, cluster_inputs, fit_decision
from tasks.segment.clusters import ClusterModel, assigned_model, feature_matrix, stored_labels, tree_agrees
from tasks.segment.rules import build_rule_memberships
from tasks.shared import shards as sharding
from tasks.shared.config import PipelineConfig, SegmentConfig
from tasks.shared.warehouse import Warehouse, quote_identifier

PARTS = sharding.WorkTables("segments", "segment_parts_")

# a shard's clusters rows: segments.clusters and whether the stored tree gives the customer the same cluster
CLUSTER_SCHEMA = {
    "customer_id": pl.String,
    "cluster_id": pl.Int32,
    "cluster_name": pl.String,
    "cluster_name_zh": pl.String,
    "tree_agrees": pl.Boolean,
}


def parts_table() -> str:
    """A new name for a run's segment shards' work table (customer_segments rows)."""
    return PARTS.new()


def part_tables(parts: str) -> dict[str, str]:
    """The run's three work tables, by what they hold."""
    return {"customer_segments": parts, "clusters": f"{parts}_clusters", "memberships": f"{parts}_rules"}


def shard_clusters(
    wh: Warehouse, stored: ClusterModel, as_of: date, shard: Mapping[str, str]
) -> pl.DataFrame:
    """The clusters of the customers shard keeps under the stored model, and whether its tree agrees."""
    inputs = cluster_inputs(wh, as_of, shard)
    matrix = feature_matrix(inputs)
    labels = stored_labels(matrix, stored)
    agrees = tree_agrees(matrix, labels, stored)
    frame = cluster_frame(inputs["customer_id"], stored, labels)
    return frame.with_columns(tree_agrees=pl.Series(agrees, dtype=pl.Boolean) if agrees is not None else None)


def segments_into(
    wh: Warehouse,
    config: SegmentConfig,
    stored: ClusterModel,
    as_of: date,
    horizon_days: int,
    parts: str,
    shard: Mapping[str, str],
) -> int:
    """The rule segments, clusters and customer_segments rows of the customers shard keeps, added to the
    run's work tables in one transaction; how many customers."""
    from tasks.segment import build_customer_segments

    tables = part_tables(parts)
    clusters = shard_clusters(wh, stored, as_of, shard)
    with wh.transaction():
        build_rule_memberships(wh, config, shard, "_shard_memberships", temp=True)
        wh.write_frame("_shard_clusters", clusters.cast(CLUSTER_SCHEMA), temp=True)
        for kind, temp in (("clusters", "_shard_clusters"), ("memberships", "_shard_memberships")):
            wh.execute(f"insert into {quote_identifier(tables[kind])} by name select * from {temp}")
        rows = build_customer_segments(
            wh, horizon_days, shard, "_shard_clusters", "_shard_memberships", table=parts, insert=True
        )
        wh.execute("drop table _shard_clusters")
        wh.execute("drop table _shard_memberships")
    return rows


def segments_shard(
    wh: Warehouse, pipeline: PipelineConfig, as_of: date, shard: int, shards: int, work_table: str
) -> int:
    """Shard `shard` of `shards` of the as_of's segments with the stored cluster fit, added to the work tables
    the segment stage made for them (a shard's flow run: flows/stage_shard.py); how many customers."""
    PARTS.check(work_table)
    if not wh.table_exists(work_table):
        return 0  # the stage no longer needs it: it went on without this shard
    config = pipeline.segments
    decision, _ = fit_decision(wh, config, as_of, False, pipeline.inputs_settings(), create=False)
    if decision.refit or decision.models is None:
        raise RuntimeError(
            f"segment shard as of {as_of}: no stored cluster fit to assign with ({decision.reason}); the "
            "segment stage fits and segments in its own process on such a day"
        )
    part = sharding.fragments(shard, shards)
    return sharding.added(
        wh,
        work_table,
        lambda: segments_into(
            wh, config, decision.models, as_of, pipeline.predict.horizon_days, work_table, part
        ),
    )


def make_parts(wh: Warehouse, parts: str, horizon_days: int) -> None:
    """The run's empty work tables (after dropping those killed runs left)."""
    from tasks.segment import build_customer_segments

    tables = part_tables(parts)
    PARTS.drop_stale(wh)
    with wh.transaction():
        wh.write_frame(tables["clusters"], pl.DataFrame(schema=CLUSTER_SCHEMA))
        wh.run("ops/rule_matches")  # the empty scratch table rule_memberships reads
        wh.build(tables["memberships"], "segments/rule_memberships")
        wh.execute("drop table _rule_matches")
        build_customer_segments(
            wh, horizon_days, sharding.NONE, tables["clusters"], tables["memberships"], table=parts
        )


def segments_from_parts(
    wh: Warehouse, stored: ClusterModel, fit_day: date, as_of: date, parts: str, shards: int
) -> tuple[ClusterModel, int]:
    """segments.rule_memberships, segments.clusters and segments.customer_segments of the as_of from its
    shards' work tables, inside the caller's transaction; the day's cluster model (sizes and fidelity counted
    from the shards' rows) and the customers. The work tables are dropped by drop_parts after the commit."""
    tables = part_tables(parts)
    rows = wh.build(
        "segments.customer_segments",
        "ops/rows_from_shards",
        identifiers={"parts": tables["customer_segments"]},
    )
    wh.build("_clusters", "ops/rows_from_shards", identifiers={"parts": tables["clusters"]}, temp=True)
    wh.build("segments.clusters", "segments/clusters_from_shards", identifiers={"clusters": "_clusters"})
    wh.build(
        "segments.rule_memberships",
        "segments/rule_memberships_from_shards",
        identifiers={"parts": tables["memberships"]},
    )
    customers = wh.count("segments.clusters")
    if rows != customers or customers != wh.scalar("select count(*) from features.customer_features"):
        raise RuntimeError(
            f"segments as of {as_of} from {shards} shards: {rows} customer_segments rows and {customers} clusters "
            "rows, not one per customer of features.customer_features"
        )
    # one pass: each cluster's customers, and how many of them the tree agrees with (of those it was asked)
    counts = wh.rows(
        "select cluster_id, count(*), count_if(tree_agrees), count(tree_agrees) from _clusters group by all"
    )
    sizes = {cluster: size for cluster, size, _, _ in counts}
    agreeing, counted = sum(row[2] for row in counts), sum(row[3] for row in counts)
    wh.execute("drop table _clusters")
    # as accuracy_score gives it in one process: the share of customers whose cluster the tree gives
    fidelity = round(agreeing / counted, 6) if stored.tree is not None and counted else stored.fidelity
    return assigned_model(stored, fit_day, as_of, sizes, fidelity), rows


def drop_parts(wh: Warehouse, parts: str) -> None:
    """Drop the run's work tables, each in a transaction of its own (a late shard's insert may conflict:
    the table then stays for the next run's drop_stale)."""
    for table in part_tables(parts).values():
        sharding.drop_work_table(wh, table)
