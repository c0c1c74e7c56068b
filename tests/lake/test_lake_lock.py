"""The lake's writer lock is PostgreSQL's: runs on other hosts (another lock file, the same catalog) write
one at a time, a waiting run names the holder, and a killed holder's lock is released by PostgreSQL."""

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.shared.lock import WarehouseLockTimeout, catalog_lock, warehouse_lock

HOLD = """
import sys, time, logging
from tasks.shared.lock import catalog_lock
with catalog_lock(sys.argv[1], "pid 1 on host-a: daily-refresh 2026-11-22 run r1", logging.getLogger()):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_host_waits_for_the_catalog_lock(
    lake_catalog: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("test")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, lake_catalog],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        # another host: its own lock file beside its own data folder, the same catalog
        with (
            caplog.at_level(logging.INFO, logger="test"),
            pytest.raises(WarehouseLockTimeout) as waited,
            warehouse_lock(
                tmp_path / "lake",
                "daily-refresh 2026-11-23",
                logger,
                timeout_seconds=1.5,
                poll_seconds=0.1,
                catalog=lake_catalog,
            ),
        ):
            pass
        assert "held by pid 1 on host-a: daily-refresh 2026-11-22 run r1" in str(waited.value)
        assert (
            "waiting for the lake's writer lock, held by pid 1 on host-a: daily-refresh 2026-11-22 run r1"
            in (caplog.records[0].getMessage())
        )
    finally:
        holder.kill()  # SIGKILL: nothing of the holder releases the lock but PostgreSQL
        holder.wait()
    started = time.monotonic()
    with catalog_lock(lake_catalog, "next", logger, timeout_seconds=10, poll_seconds=0.1):
        assert time.monotonic() - started < 10
