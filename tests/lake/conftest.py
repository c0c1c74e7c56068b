"""The DuckLake backend's tests: real PostgreSQL catalogs, run in the lake environment (make test-lake).

The signed DuckLake and PostgreSQL extensions exist on the package index for DuckDB 1.5.5 only, so these
tests run in envs/lake/.venv (DuckDB 1.5.5); in the main environment (DuckDB 2.x) they are skipped, and
`make test` runs them in the lake environment after the main suite.
"""

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.postgres import create_database
from tasks.shared.lake import unavailable
from tests.conftest import write_config

HERE = Path(__file__).resolve().parent
LAKE_ENV = "SEGMENTS_LAKE_CATALOG"  # the variable the lake configs of these tests name


UNAVAILABLE = unavailable()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this folder `lake` (and e2e: they run real flows); skip them without the extensions."""
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.lake)
            item.add_marker(pytest.mark.e2e)
            if UNAVAILABLE:
                item.add_marker(
                    pytest.mark.skip(reason=f"lake environment only (make test-lake): {UNAVAILABLE}")
                )


_databases = itertools.count()


@pytest.fixture
def lake_catalog(postgres: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty PostgreSQL database for one lake's catalog; its URI is in SEGMENTS_LAKE_CATALOG."""
    dsn = create_database(postgres, f"lake_{os.getpid()}_{next(_databases)}")
    monkeypatch.setenv(LAKE_ENV, dsn)
    yield dsn


@pytest.fixture
def make_lake_config(tmp_path: Path, lake_catalog: str) -> Callable[..., Path]:
    """Write the demo config for a data folder with its warehouse a DuckLake (catalog lake_catalog)."""
    counter = itertools.count()

    def make(data_dir: Path, **overrides: object) -> Path:
        work = tmp_path / f"lake{next(counter)}"
        lake = {"ducklake": {"catalog": {"dsn_env": LAKE_ENV}, "data_path": str(work / "lake")}}
        return write_config(data_dir, work, warehouse=lake, **overrides)

    return make
