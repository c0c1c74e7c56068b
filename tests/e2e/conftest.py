"""Everything under tests/e2e runs real flows (Prefect's test harness or a real server): marked `e2e`."""

from pathlib import Path

import pytest
from prefect.client.schemas.objects import State

from flows.daily_refresh import daily_refresh
from tests.conftest import SAMPLE_END, write_config

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this folder e2e, so `pytest -m "not e2e"` runs the fast ones."""
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def sample_refresh(
    prefect_server: None, sample_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, State]:
    """One daily refresh of the sample data as of SAMPLE_END (read-only for tests): its config and final
    state. Tests that only read what that run built share it rather than each paying for the same run."""
    config = write_config(sample_data, tmp_path_factory.mktemp("sample-refresh"))
    return config, daily_refresh(as_of=SAMPLE_END, config=str(config), return_state=True)
