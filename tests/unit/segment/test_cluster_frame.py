"""segments.clusters as written by the segment stage: each customer's cluster id and names, in input order."""

import numpy as np
import polars as pl

from tasks.segment.cluster_tables import cluster_frame
from tasks.segment.clusters import Centroid, ClusterModel


def model(labels: list[int]) -> ClusterModel:
    centroids = [Centroid(3, "Whales", "大户", 1, {}), Centroid(7, "Sleepers", "沉睡", 2, {})]
    return ClusterModel(
        k=2,
        k_method="fixed",
        k_scores={},
        silhouette=None,
        inertia=0.0,
        fidelity=1.0,
        tree_rules="",
        scaler={},
        centroids=centroids,
        labels=np.asarray(labels, dtype=np.int64),
    )


def test_each_customer_gets_its_clusters_id_and_names_in_input_order() -> None:
    frame = cluster_frame(pl.Series(["c9", "c1", "c5"]), model([7, 3, 7]))
    assert frame.schema == pl.Schema(
        {
            "customer_id": pl.String,
            "cluster_id": pl.Int32,
            "cluster_name": pl.String,
            "cluster_name_zh": pl.String,
        }
    )
    assert frame.rows() == [
        ("c9", 7, "Sleepers", "沉睡"),
        ("c1", 3, "Whales", "大户"),
        ("c5", 7, "Sleepers", "沉睡"),
    ]


def test_no_customers_no_rows() -> None:
    frame = cluster_frame(pl.Series([], dtype=pl.String), model([]))
    assert frame.height == 0
    assert frame.columns == ["customer_id", "cluster_id", "cluster_name", "cluster_name_zh"]
