"""Scoring in row blocks on every core gives the numbers of one call, each block with one OpenMP thread."""

import threading

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import ThreadpoolController

from tasks.shared import scoring
from tasks.shared.scoring import score_rows


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2_000, 5))
    return x, (x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=2_000) > 0).astype(int)


def test_blocks_in_threads_give_the_numbers_of_one_call(
    data: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = HistGradientBoostingClassifier(max_iter=30, early_stopping=False, random_state=0).fit(*data)
    monkeypatch.setattr(scoring, "MIN_BLOCK_ROWS", 100)
    x = np.random.default_rng(8).normal(size=(1_001, 5))
    openmp = ThreadpoolController().select(user_api="openmp")
    together = threading.Barrier(3, timeout=30)  # the three blocks run at once, in three threads
    seen: list[tuple[int, int, list[int]]] = []

    def score(block: np.ndarray) -> np.ndarray:
        if len(block) > 200:
            together.wait()
        seen.append((len(block), threading.get_ident(), [lib["num_threads"] for lib in openmp.info()]))
        return model.predict_proba(block)[:, 1]

    whole = model.predict_proba(x)[:, 1]
    assert np.array_equal(score_rows(score, x, workers=3), whole)
    assert sorted(rows for rows, _, _ in seen) == [333, 334, 334]
    assert len({thread for _, thread, _ in seen}) == 3
    assert all(threads == [1] for _, _, threads in seen)  # one OpenMP thread in every block
    seen.clear()
    assert np.array_equal(score_rows(score, x[:199], workers=3), whole[:199])  # under two blocks: one call
    assert [(rows, thread, threads) for rows, thread, threads in seen] == [(199, threading.get_ident(), [1])]
    assert [lib["num_threads"] for lib in openmp.info()] != [1] or scoring.cpu_count() == 1  # limit undone


def test_a_trees_predictions_in_blocks_are_those_of_one_call(
    data: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring, "MIN_BLOCK_ROWS", 500)
    tree = DecisionTreeClassifier(max_depth=6, random_state=0).fit(*data)
    x = np.random.default_rng(9).normal(size=(5_001, 5))
    assert np.array_equal(score_rows(tree.predict, x, workers=3), tree.predict(x))


def test_no_rows_score_to_nothing_without_a_call(data: tuple[np.ndarray, np.ndarray]) -> None:
    # a day with no payers scores the stored churn model on no rows; scikit-learn refuses an empty matrix
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(*data)
    with pytest.raises(ValueError, match="0 sample"):
        model.predict_proba(np.empty((0, 5)))
    scores = score_rows(lambda x: model.predict_proba(x)[:, 1], np.empty((0, 5)))
    assert scores.shape == (0,)
