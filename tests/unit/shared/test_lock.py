"""The writer lock: a second writer waits and says who holds it; waiting has a limit; readers are told clearly."""

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.shared.lock import WarehouseLockTimeout, lock_path, warehouse_lock
from tasks.shared.warehouse import Warehouse, WarehouseLockedError
from tests.lockholder import hold_lock


def test_a_second_writer_waits_and_says_who_holds_the_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse = tmp_path / "w.duckdb"
    holder = hold_lock(warehouse, 2)
    logger = logging.getLogger("test-lock")
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="test-lock"), warehouse_lock(warehouse, "second", logger):
        waited = time.monotonic() - started
        assert json.loads(lock_path(warehouse).read_text())["holder"] == "second"
    holder.wait(timeout=10)
    assert 1.0 < waited < 10
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("waiting for the warehouse lock, held by a test holder (pid ")
    assert messages[-1].startswith("got the warehouse lock after ")
    assert lock_path(warehouse).read_text() == ""  # released: no holder recorded


def test_waiting_for_the_lock_has_a_limit(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    holder = hold_lock(warehouse, 10)
    try:
        with (
            pytest.raises(
                WarehouseLockTimeout, match=r"waited \d+ s for the warehouse lock .* held by a test holder"
            ),
            warehouse_lock(warehouse, "second", logging.getLogger("t"), timeout_seconds=1),
        ):
            pass
    finally:
        holder.kill()


def test_a_reader_is_told_clearly_when_a_writer_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
            "time.sleep(20)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        with pytest.raises(
            WarehouseLockedError, match="is locked by another process \\(a run is writing to it\\)"
        ):
            Warehouse(path, read_only=True)
    finally:
        writer.kill()
