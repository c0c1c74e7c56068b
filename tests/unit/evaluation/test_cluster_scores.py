"""Cluster-level scores of a clustering against ground truth: exact clusters and B-cubed."""

import polars as pl
import pytest

from evaluation.linkage import cluster_scores


def test_cluster_scores_hand_computed() -> None:
    predicted = pl.DataFrame({"item": ["a", "b", "c", "d", "e", "z"], "cluster": [1, 1, 1, 2, 2, 3]})
    truth = pl.DataFrame({"item": ["a", "b", "c", "d", "e", "y"], "entity": ["A", "A", "A", "A", "B", "C"]})
    # items a-e only; cluster 1 = {a,b,c} (A has d too), cluster 2 = {d,e} (two entities): none exact.
    # B-cubed precision: a,b,c 3/3 each, d 1/2, e 1/2 -> 4/5; recall: a,b,c 3/4 each, d 1/4, e 1/1 -> 3.5/5
    assert cluster_scores(predicted, truth) == {
        "predicted_clusters": 2,
        "true_clusters": 2,
        "exact_clusters": 0,
        "cluster_precision": 0.0,
        "cluster_recall": 0.0,
        "bcubed_precision": 0.8,
        "bcubed_recall": 0.7,
        "bcubed_f1": pytest.approx(2 * 0.8 * 0.7 / 1.5, abs=1e-12),
    }


def test_cluster_scores_with_exact_clusters_and_singletons() -> None:
    predicted = pl.DataFrame({"item": ["a", "b", "c", "d", "e", "f", "g"], "cluster": [1, 1, 2, 3, 4, 4, 5]})
    truth = pl.DataFrame(
        {"item": ["a", "b", "c", "d", "e", "f", "g"], "entity": ["A", "A", "B", "B", "C", "C", "D"]}
    )
    # exact: {a,b}, {e,f} and the singleton {g}; {c} and {d} split entity B
    scores = cluster_scores(predicted, truth)
    assert scores == {
        "predicted_clusters": 5,
        "true_clusters": 4,
        "exact_clusters": 3,
        "cluster_precision": 0.6,
        "cluster_recall": 0.75,
        "bcubed_precision": 1.0,
        "bcubed_recall": pytest.approx(6 / 7, abs=1e-12),
        "bcubed_f1": pytest.approx(2 * (6 / 7) / (1 + 6 / 7), abs=1e-12),
    }


def test_cluster_scores_of_nothing() -> None:
    empty = pl.DataFrame({"item": [], "cluster": []}, schema={"item": pl.String, "cluster": pl.Int64})
    truth = pl.DataFrame({"item": ["a"], "entity": ["A"]})
    assert cluster_scores(empty, truth) == {
        "predicted_clusters": 0,
        "true_clusters": 0,
        "exact_clusters": 0,
        "cluster_precision": 1.0,
        "cluster_recall": 1.0,
        "bcubed_precision": 1.0,
        "bcubed_recall": 1.0,
        "bcubed_f1": 1.0,
    }
