"""Scoring in row blocks on every core gives the numbers of one call, each block with one OpenMP thread."""

import threading

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_info

from tasks.shared import scoring
from tasks.shared.scoring import score_rows


@pytest.fixture(scope="module")
def model() -> HistGradientBoostingClassifier:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2_000, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=2_000) > 0).astype(int)
    return HistGradientBoostingClassifier(max_iter=30, early_stopping=False, random_state=0).fit(x, y)


def test_blocks_in_threads_give_the_numbers_of_one_call(
    model: HistGradientBoostingClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring, "MIN_BLOCK_ROWS", 100)
    x = np.random.default_rng(8).normal(size=(1_001, 5))
    seen: list[tuple[int, int | None]] = []

    def score(block: np.ndarray) -> np.ndarray:
        openmp = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp"]
        seen.append((len(block), threading.get_ident()))
        assert set(openmp) <= {1}  # one OpenMP thread in every block
        return model.predict_proba(block)[:, 1]

    whole = model.predict_proba(x)[:, 1]
    assert np.array_equal(score_rows(score, x, workers=3), whole)
    assert sorted(rows for rows, _ in seen) == [333, 334, 334]
    assert len({thread for _, thread in seen}) >= 2  # the blocks ran in threads, not one after another here
    seen.clear()
    assert np.array_equal(score_rows(score, x[:199], workers=3), whole[:199])  # under two blocks: one call
    assert [rows for rows, _ in seen] == [199]


def test_cluster_labels_in_blocks_are_those_of_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    monkeypatch.setattr(scoring, "MIN_BLOCK_ROWS", 500)
    rng = np.random.default_rng(9)
    x = np.abs(rng.normal(size=(5_001, 6))) * [1, 10, 100, 1_000, 0.1, 3]
    pipeline = make_pipeline(StandardScaler(), KMeans(n_clusters=7, n_init=1, random_state=0)).fit(x[:2_000])
    labels = score_rows(pipeline.predict, x, workers=3)
    assert np.array_equal(labels, pipeline.predict(x))
    assert sorted(np.unique(labels)) == list(range(7))
