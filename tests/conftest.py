"""Shared fixtures: small generated data, per-test configs, and one Prefect test server per session."""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import shutil  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import yaml  # noqa: E402

from sampledata.generate import generate  # noqa: E402
from tests.backend import BACKEND, default_warehouse  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config" / "demo.yaml"
SAMPLE_END = date(2026, 11, 22)
SAMPLE_CUSTOMERS = 1500


def pytest_unconfigure(config: pytest.Config) -> None:
    """After the report: no spurious DuckDB binding "leaked instance" lines at interpreter exit."""
    import atexit

    from flows.shutdown import silence_teardown_noise

    atexit.register(silence_teardown_noise)  # after pytest has restored the real stderr


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect server (SQLite) for the whole session: flows run against it, not a mock."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated 棋牌 sample data (read-only for tests: copy before changing)."""
    directory = tmp_path_factory.mktemp("sample")
    generate(directory, customers=SAMPLE_CUSTOMERS, seed=7, end=SAMPLE_END)
    return directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under SEGMENTS_TEST_BACKEND=lake, skip the tests of the DuckDB file itself (marker file_backend)."""
    if BACKEND != "lake":
        return
    for item in items:
        marker = item.get_closest_marker("file_backend")
        if marker is not None:
            reason = marker.args[0] if marker.args else "a test of the DuckDB file backend"
            item.add_marker(pytest.mark.skip(reason=f"file backend only: {reason}"))


def write_config(data_dir: Path, work_dir: Path, **overrides: object) -> Path:
    """The demo config with sources read from data_dir and the warehouse and exports in work_dir.

    The warehouse is work_dir/warehouse.duckdb, or under SEGMENTS_TEST_BACKEND=lake a new DuckLake (its own
    catalog database on the session's PostgreSQL, its data in work_dir/lake) unless overrides name one.
    """
    config = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    for source in config["sources"]:
        source["path"] = str(data_dir / source["path"])
    config["warehouse"] = default_warehouse(work_dir)
    config["exports"] = str(work_dir / "exports")
    config.update(overrides)
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config for a data folder into a fresh work folder under tmp_path."""
    counter = iter(range(1000))

    def make(data_dir: Path, **overrides: object) -> Path:
        return write_config(data_dir, tmp_path / f"work{next(counter)}", **overrides)

    return make


@pytest.fixture
def sample_copy(sample_data: Path, tmp_path: Path) -> Path:
    """A private copy of the sample data that a test may change."""
    target = tmp_path / "data"
    shutil.copytree(sample_data, target)
    return target


@pytest.fixture
def wh() -> Iterator:
    """An empty in-memory warehouse (time zone Asia/Shanghai)."""
    from tasks.shared.warehouse import Warehouse

    with Warehouse(":memory:") as warehouse:
        yield warehouse


# A real PostgreSQL server, started once per session for the database-source tests (tests/sources.py).
from tests.sources import postgres  # noqa: E402, F401
