"""Pairwise precision, recall and F1 of a clustering against ground truth."""

from __future__ import annotations

import polars as pl

from evaluation.linkage import pairwise_scores


def test_pairwise_scores_hand_computed() -> None:
    predicted = pl.DataFrame({"item": ["a", "b", "c", "d", "e", "z"], "cluster": [1, 1, 1, 2, 2, 3]})
    truth = pl.DataFrame({"item": ["a", "b", "c", "d", "e", "y"], "entity": ["A", "A", "A", "A", "B", "C"]})
    # predicted pairs: {a,b,c} -> 3, {d,e} -> 1 = 4; true pairs: {a,b,c,d} -> 6; correct: ab, ac, bc = 3
    # z and y are each in one side only and are ignored
    assert pairwise_scores(predicted, truth) == {
        "items": 5,
        "precision": 0.75,
        "recall": 0.5,
        "f1": 0.6,
        "true_pairs": 6,
        "predicted_pairs": 4,
        "correct_pairs": 3,
    }


def test_pairwise_scores_without_pairs() -> None:
    predicted = pl.DataFrame({"item": ["a", "b"], "cluster": [1, 2]})
    truth = pl.DataFrame({"item": ["a", "b"], "entity": ["A", "A"]})
    assert pairwise_scores(predicted, truth) == {
        "items": 2,
        "precision": 1.0,
        "recall": 0.0,
        "f1": 0.0,
        "true_pairs": 1,
        "predicted_pairs": 0,
        "correct_pairs": 0,
    }
