"""Everything under tests/e2e runs real flows (Prefect's test harness or a real server): marked `e2e`."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this folder e2e, so `pytest -m "not e2e"` runs the fast ones."""
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.e2e)
