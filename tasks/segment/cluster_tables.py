"""Clustering in the warehouse: the inputs, the previous as_of's centroids, segments.clusters and the stored model.

Each as_of keeps its model (segments.cluster_models) and centroids (segments.cluster_centroids), so the
next as_of can keep the ids and names of the clusters it finds again (see tasks.segment.clusters).
The fitted pipeline itself is kept in segments.cluster_fits (tasks.predict.model_store): a day assigns
its customers with the latest fit on or before it while that fit is fresh (segment.cluster_refit_every_days,
same settings, code and library versions), and fits again otherwise; a refit is the same computation as
a run without a stored model.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from tasks.predict.model_store import Decision, decide, settings_hash, store_fit
from tasks.segment.clusters import (
    FEATURES,
    INACTIVE_CAP,
    N_INIT,
    TREE_DEPTH,
    Centroid,
    ClusterModel,
    PreviousClusters,
    assign_clusters,
    feature_matrix,
    fit_clusters,
    stored_model,
)
from tasks.shared import shards as sharding
from tasks.shared.config import SegmentConfig
from tasks.shared.warehouse import Warehouse

FITS = "segments.cluster_fits"
# The code a stored cluster model depends on: another version of any of them fits again.
FIT_SOURCES = (
    "tasks/segment/clusters.py",
    "tasks/segment/naming.py",
    "tasks/segment/cluster_tables.py",
    "sql/segments/cluster_inputs.sql",
)
# The settings of SegmentConfig the cluster fit depends on.
FIT_SETTINGS = (
    "clusters",
    "random_state",
    "cluster_k",
    "cluster_k_min",
    "cluster_k_max",
    "cluster_sample_size",
    "cluster_fit_sample_size",
    "cluster_match_distance",
)


@dataclass(frozen=True)
class Clustering:
    """The clusters of one as_of and whether their model was fitted again (why), or of which fit day."""

    model: ClusterModel
    refit: bool
    reason: str
    fitted_on: date


def fit_settings_hash(config: SegmentConfig, inputs: dict[str, Any] | None = None) -> str:
    """The hash of what a cluster fit depends on: its settings, the model constants, the code, inputs."""
    settings = {name: getattr(config, name) for name in FIT_SETTINGS}
    settings |= {
        "features": FEATURES,
        "inactive_cap": INACTIVE_CAP,
        "n_init": N_INIT,
        "tree_depth": TREE_DEPTH,
    }
    return settings_hash(settings | {"inputs": inputs or {}}, FIT_SOURCES)


def ensure_tables(wh: Warehouse) -> None:
    """Create the per-as_of model history tables if they do not exist."""
    wh.ensure("segments/cluster_models")
    wh.ensure("segments/cluster_centroids")


def previous_clusters(wh: Warehouse, as_of: date) -> PreviousClusters:
    """The centroids of the latest stored as_of before as_of, and the next id never used on any day."""
    previous = wh.scalar("select max(as_of) from segments.cluster_centroids where as_of < ?", [as_of])
    next_id = wh.scalar(
        "select coalesce(max(cluster_id) + 1, 0) from segments.cluster_centroids where as_of <> ?", [as_of]
    )
    if previous is None:
        return PreviousClusters(next_id=next_id)
    rows = wh.dicts(
        f"select cluster_id, name_en, name_zh, size, {', '.join(FEATURES)} "
        "from segments.cluster_centroids where as_of = ? order by cluster_id",
        [previous],
    )
    centroids = tuple(
        Centroid(r["cluster_id"], r["name_en"], r["name_zh"], r["size"], {f: r[f] for f in FEATURES})
        for r in rows
    )
    return PreviousClusters(as_of=previous, centroids=centroids, next_id=next_id)


def forget_clusters_from(wh: Warehouse, day: date) -> int:
    """Delete the cluster models and centroids of day and later; return the days deleted.

    For a backfill that recomputes day and every published day after it in order: cluster ids follow
    from the day before (previous_clusters), and an id first given on a later day must not count as used.
    """
    days: set[date] = set()
    for table in ("segments.cluster_models", "segments.cluster_centroids"):
        if wh.table_exists(table):
            days |= {as_of for (as_of,) in wh.delete_returning(table, "as_of >= ?", [day], "as_of")}
    return len(days)


def store_model(wh: Warehouse, as_of: date, run_id: str | None, model: ClusterModel, customers: int) -> None:
    """Replace the as_of's rows of segments.cluster_models and segments.cluster_centroids."""
    with wh.transaction():
        wh.execute("delete from segments.cluster_models where as_of = ?", [as_of])
        wh.execute("delete from segments.cluster_centroids where as_of = ?", [as_of])
        wh.execute(
            "insert into segments.cluster_models values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                as_of,
                run_id,
                model.previous_as_of,
                model.k,
                model.k_method,
                json.dumps(model.k_scores),
                model.silhouette,
                model.inertia,
                model.fidelity,
                model.tree_rules,
                json.dumps({"transform": "log1p", **model.scaler}),
                json.dumps(list(FEATURES)),
                customers,
                model.fitted_rows,
            ],
        )
        for c in model.centroids:
            wh.execute(
                f"insert into segments.cluster_centroids values (?, ?, ?, ?, ?, ?, {', '.join('?' for _ in FEATURES)})",
                [as_of, c.cluster_id, c.name_en, c.name_zh, c.size, c.distance_to_previous]
                + [c.values[f] for f in FEATURES],
            )


def cluster_frame(
    customer_ids: pl.Series, model: ClusterModel, labels: np.ndarray | None = None
) -> pl.DataFrame:
    """segments.clusters: each customer's cluster id and names, the labels' order (model.labels, or labels)
    being customer_ids'.

    The names are looked up per cluster by polars (a join of the k clusters), not per customer in Python.
    """
    names = pl.DataFrame(
        {
            "cluster_id": [c.cluster_id for c in model.centroids],
            "cluster_name": [c.name_en for c in model.centroids],
            "cluster_name_zh": [c.name_zh for c in model.centroids],
        },
        schema={"cluster_id": pl.Int32, "cluster_name": pl.String, "cluster_name_zh": pl.String},
    )
    labels = pl.DataFrame(
        {"customer_id": customer_ids, "cluster_id": model.labels if labels is None else labels},
        schema={"customer_id": pl.String, "cluster_id": pl.Int32},
    )
    return labels.join(names, on="cluster_id", how="left", maintain_order="left")


def cluster_inputs(wh: Warehouse, as_of: date, shard: Mapping[str, str] = sharding.ALL) -> pl.DataFrame:
    """The clustering inputs (sql/segments/cluster_inputs.sql) of the customers shard keeps, by customer_id."""
    sql = wh.model_sql("segments/cluster_inputs", fragments=shard)
    return wh.frame(sql, {"as_of": as_of, "inactive_cap": INACTIVE_CAP})


def fit_decision(
    wh: Warehouse,
    config: SegmentConfig,
    as_of: date,
    refit: bool = False,
    inputs_settings: dict[str, Any] | None = None,
    create: bool = True,
) -> tuple[Decision, str]:
    """Whether the as_of fits the cluster model again or assigns with the stored fit (and which), and the
    hash of what a fit depends on. create: make the model history tables if missing (not in a shard, which
    only reads)."""
    if create:
        ensure_tables(wh)
    digest = fit_settings_hash(config, inputs_settings)
    return decide(wh, FITS, as_of, digest, config.cluster_refit_every_days, refit), digest


def cluster_customers(
    wh: Warehouse,
    config: SegmentConfig,
    as_of: date,
    run_id: str | None,
    refit: bool = False,
    inputs_settings: dict[str, Any] | None = None,
    decided: tuple[Decision, str] | None = None,
) -> Clustering:
    """Cluster every customer of features.customer_features into segments.clusters; store the model.

    With a fresh stored fit (see tasks.predict.model_store) the customers are assigned by it; otherwise
    (or with refit) the model is fitted again and stored. inputs_settings: settings outside the segment
    config that change what the inputs mean (the currency of monetary), part of the fit's hash. decided:
    fit_decision's answer when the caller has it already.
    """
    decision, digest = decided or fit_decision(wh, config, as_of, refit, inputs_settings)
    inputs = cluster_inputs(wh, as_of)
    matrix = feature_matrix(inputs)
    if decision.refit:
        model = fit_clusters(matrix, config, previous_clusters(wh, as_of))
        if model.pipeline is not None:  # no customers, no model to keep
            store_fit(wh, FITS, as_of, run_id, digest, stored_model(model))
        fitted_on = as_of
    else:
        model = assign_clusters(matrix, decision.models, decision.fitted_on, as_of)
        fitted_on = decision.fitted_on
    wh.write_frame("segments.clusters", cluster_frame(inputs["customer_id"], model))
    store_model(wh, as_of, run_id, model, inputs.height)
    return Clustering(model, decision.refit, decision.reason, fitted_on)
