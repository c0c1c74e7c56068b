"""Fixtures of the predict tests."""

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def one_openmp_thread() -> Iterator[None]:
    """Gradient boosting on one OpenMP thread: the tests' frames are small, and on a busy machine the threads
    of a parallel fit spin-wait for each other (a 0.05 s fit then takes seconds)."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield
