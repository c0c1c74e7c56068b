"""Scoring many rows with a fitted model on every core, in the same numbers as one call.

scikit-learn's gradient boosting predicts with an OpenMP pool. On a busy two-core machine the pool's
threads wait for each other at every tree (measured at 1M customers: 590k payers took 12.6 s with the
pool, 2.9 s with one OpenMP thread), so the models score with one OpenMP thread. That thread releases the
GIL, so row blocks in Python threads, each with one OpenMP thread, use every core without the waits:
590k rows in 1.26 s on two cores against 2.49 s in one call. A row's score depends on that row alone, so
the blocks give the same numbers as one call (tests/unit/shared/test_scoring.py).

For models whose predict runs on OpenMP's own thread count (gradient boosting) or on one thread (decision
trees); not KMeans, whose predict uses the thread count stored with the fit whatever the limit.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import cpu_count
from threadpoolctl import ThreadpoolController, threadpool_limits

# Fewer rows than this per block are scored in one call: a thread costs more than it saves.
MIN_BLOCK_ROWS = 20_000


def score_rows(
    score: Callable[[np.ndarray], np.ndarray], x: np.ndarray, workers: int | None = None
) -> np.ndarray:
    """score(x) computed in row blocks, one per worker (default: one per core this process may use, CPU
    quotas counted: joblib.cpu_count), each in a thread of its own
    limited to one OpenMP thread; one call (limited the same way) when the rows make fewer than two blocks.
    score must give each row's result from that row alone (a model's predict). No rows: no call (scikit-learn
    refuses an empty matrix), an empty result."""
    if len(x) == 0:
        return np.empty(0)
    blocks = min(workers or cpu_count(), len(x) // MIN_BLOCK_ROWS)
    if blocks < 2:
        with threadpool_limits(limits=1, user_api="openmp"):
            return score(x)
    # the loaded OpenMP runtimes, looked up here (threadpoolctl's lookup is not meant to run in threads); a
    # limit set in a worker is that thread's own and ends with it
    openmp = ThreadpoolController().select(user_api="openmp")
    with ThreadPoolExecutor(blocks, initializer=lambda: openmp.limit(limits=1)) as pool:
        return np.concatenate(list(pool.map(score, np.array_split(x, blocks))))
