"""Clustering in the warehouse: the inputs, the previous as_of's centroids, segments.clusters and the stored model.

Each as_of keeps its model (segments.cluster_models) and centroids (segments.cluster_centroids), so the
next as_of can keep the ids and names of the clusters it finds again (see tasks.segment.clusters).
"""

import json
from datetime import date

import polars as pl

from tasks.segment.clusters import (
    FEATURES,
    INACTIVE_CAP,
    Centroid,
    ClusterModel,
    PreviousClusters,
    feature_matrix,
    fit_clusters,
)
from tasks.shared.config import SegmentConfig
from tasks.shared.warehouse import Warehouse


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


def cluster_customers(wh: Warehouse, config: SegmentConfig, as_of: date, run_id: str | None) -> ClusterModel:
    """Cluster every customer of features.customer_features into segments.clusters; store the model."""
    ensure_tables(wh)
    inputs = wh.frame(wh.model_sql("segments/cluster_inputs"), {"as_of": as_of, "inactive_cap": INACTIVE_CAP})
    model = fit_clusters(feature_matrix(inputs), config, previous_clusters(wh, as_of))
    names = {c.cluster_id: (c.name_en, c.name_zh) for c in model.centroids}
    ids = model.labels.tolist()
    wh.write_frame(
        "segments.clusters",
        pl.DataFrame(
            {
                "customer_id": inputs["customer_id"],
                "cluster_id": ids,
                "cluster_name": [names[i][0] for i in ids],
                "cluster_name_zh": [names[i][1] for i in ids],
            },
            schema={
                "customer_id": pl.String,
                "cluster_id": pl.Int32,
                "cluster_name": pl.String,
                "cluster_name_zh": pl.String,
            },
        ),
    )
    store_model(wh, as_of, run_id, model, inputs.height)
    return model
