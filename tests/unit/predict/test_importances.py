"""The churn classifier's permutation importances: sklearn's, to the last bit, from one call of the model."""

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression

from tasks.predict.fitting import auc_drops


def inputs(rows: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(rows, 6))
    matrix[rng.random(matrix.shape) < 0.1] = np.nan  # missing inputs, as the snapshots have
    matrix[:, 3] = rng.integers(0, 4, rows)  # a category code
    labels = (matrix[:, 0] + 0.5 * np.nan_to_num(matrix[:, 1]) + rng.normal(size=rows) > 0).astype(np.int64)
    return matrix, labels


def test_auc_drops_equal_sklearn_permutation_importance() -> None:
    matrix, labels = inputs()
    model = HistGradientBoostingClassifier(
        max_iter=50, categorical_features=[column == 3 for column in range(6)], random_state=0
    ).fit(matrix, labels)
    for seed, repeats in ((0, 3), (7, 1), (42, 4)):
        expected = permutation_importance(
            model, matrix, labels, scoring="roc_auc", n_repeats=repeats, random_state=seed
        ).importances_mean
        drops = auc_drops(model, matrix, labels, repeats, seed)
        assert drops.tolist() == expected.tolist(), (seed, repeats)
    # the labels are made of input 0, and half as much of input 1; the others are noise
    assert drops[0] > drops[1] > max(drops[2], drops[3], drops[4], drops[5])


def test_auc_drops_of_another_model_kind() -> None:
    matrix, labels = inputs(500)
    matrix = np.nan_to_num(matrix)
    model = LogisticRegression().fit(matrix, labels)
    expected = permutation_importance(model, matrix, labels, scoring="roc_auc", n_repeats=2, random_state=3)
    assert auc_drops(model, matrix, labels, 2, 3).tolist() == expected.importances_mean.tolist()
