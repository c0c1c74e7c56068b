"""A writer and the readers of the warehouse: a refresh waits for a read-only connection (a BI tool, a
notebook) as it waits for a run, within the run's time limit, and says which process holds the file;
permanent I/O errors are not retried; the lock's holder removes what dead runs left."""

from __future__ import annotations

import errno
import logging
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.errors import is_transient
from tasks.shared.lock import warehouse_lock
from tasks.shared.warehouse import Warehouse, WarehouseLockedError

READER = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
    "print('open', flush=True); time.sleep(float(sys.argv[2]))"
)


def config_in(folder: Path, timeout_seconds: int = 14400) -> PipelineConfig:
    """A config of a warehouse in folder with the given run time limit."""
    path = folder / "pipeline.yaml"
    path.write_text(
        f"warehouse: w.duckdb\norchestration: {{timeout_seconds: {timeout_seconds}}}\nsources:\n"
        "  - {name: crm, kind: customers, format: csv, path: crm.csv, columns: {source_id: id}}\n",
        encoding="utf-8",
    )
    return load_config(path)


def hold_open(warehouse: Path, seconds: float) -> subprocess.Popen:
    """Another process with a read-only connection to the warehouse; returns once it has the file open."""
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert reader.stdout.readline().strip() == "open"
    return reader


def test_a_refresh_waits_for_a_reader_and_says_which_process_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_in(tmp_path)
    Warehouse.open(config).close()
    reader = hold_open(config.warehouse_path, 2)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="tasks.shared.warehouse"), Warehouse.open(config) as wh:
        waited = time.monotonic() - started
        wh.execute("create table raw.t as select 1 as x")  # it writes
    reader.wait(timeout=10)
    assert 1.0 < waited < 10
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith(
        f"waiting for the warehouse {config.warehouse_path}: a read-only connection of pid {reader.pid} ("
    )
    assert READER[:30] in messages[0]  # its command line
    assert messages[-1].startswith(f"got the warehouse {config.warehouse_path} after ")


def test_waiting_for_a_reader_ends_at_the_run_time_limit_naming_the_reader(tmp_path: Path) -> None:
    config = config_in(tmp_path, timeout_seconds=1)
    Warehouse.open(config).close()
    reader = hold_open(config.warehouse_path, 20)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:  # WarehouseBusyTimeout
            Warehouse.open(config)
        assert 1.0 <= time.monotonic() - started < 5
    finally:
        reader.kill()
    message = str(caught.value)
    assert message.startswith(f"waited 1 s for a read-only connection of pid {reader.pid} ("), message
    assert message.endswith(
        f"to close the warehouse {config.warehouse_path} (orchestration.timeout_seconds = 1); a run writes only "
        "when no reader has the file open: close that connection, or open the warehouse only while no run is due"
    )
    assert "a run is writing" not in message
    assert not is_transient(caught.value)  # the wait took the whole time limit: no retry


def test_a_writer_that_does_not_wait_is_told_a_reader_has_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    reader = hold_open(path, 20)
    try:
        with pytest.raises(WarehouseLockedError) as caught:
            Warehouse(path)
    finally:
        reader.kill()
    assert str(caught.value).startswith(
        f"warehouse {path} is open read-only in another process, so it cannot be written now: "
        f"a read-only connection of pid {reader.pid} ("
    )
    assert "a run is writing" not in str(caught.value)


def test_the_holder_of_a_duckdb_lock_from_its_error_text() -> None:
    from tasks.shared.lock import duckdb_lock_holder

    reader = (
        'IO Error: Could not set lock on file "/w.duckdb": Conflicting lock is held in /usr/bin/python3.11 '
        "(PID 999999999). However, you would be able to open this database in read-only mode, e.g. by using "
        "the -readonly parameter in the CLI. See also https://duckdb.org/docs/current/connect/concurrency"
    )
    writer = 'IO Error: Could not set lock on file "/w.duckdb": Conflicting lock is held in /usr/bin/duckdb (PID 7).'
    assert duckdb_lock_holder(reader) == (
        "a read-only connection of pid 999999999 (/usr/bin/python3.11)",
        True,
    )
    assert duckdb_lock_holder(writer)[1] is False
    assert duckdb_lock_holder(writer)[0].startswith("a writing connection of pid 7 (")
    assert duckdb_lock_holder("IO Error: Could not set lock") == (
        "a writing connection of another process",
        False,
    )
    # a long command line is cut with a mark, not shown as if it were the whole (time.sleep(100) as ...sleep(10))
    long = "/opt/" + "x" * 200 + "/python"
    cut = duckdb_lock_holder(reader.replace("/usr/bin/python3.11", long))[0]
    assert cut == f"a read-only connection of pid 999999999 ({long[:159]}…)"


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        OSError(errno.EROFS, "Read-only file system", "/data/w.duckdb"),
        OSError(errno.EPERM, "Operation not permitted"),
        OSError(errno.EACCES, "Permission denied"),
        FileExistsError(errno.EEXIST, "File exists", "/data/exports"),
        duckdb.IOException('IO Error: Could not write file "/data/w.duckdb.wal": No space left on device'),
        duckdb.IOException('IO Error: Cannot open file "/data/w.duckdb": Permission denied'),
        duckdb.IOException('IO Error: Cannot open file "/data/w.duckdb": Read-only file system'),
    ],
    ids=[
        "ENOSPC",
        "EDQUOT",
        "EROFS",
        "EPERM",
        "EACCES",
        "EEXIST",
        "duckdb-ENOSPC",
        "duckdb-EACCES",
        "duckdb-EROFS",
    ],
)
def test_permanent_io_errors_are_not_retried(error: BaseException) -> None:
    assert not is_transient(error)


def test_transient_io_errors_are_still_retried() -> None:
    assert is_transient(OSError(errno.EIO, "Input/output error"))
    assert is_transient(duckdb.IOException('IO Error: Could not set lock on file "/data/w.duckdb"'))
    assert is_transient(ConnectionError("source 'pg': PostgreSQL read failed: server closed the connection"))


def test_the_lock_holder_removes_the_work_folders_of_dead_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse = tmp_path / "w.duckdb"
    dead = tmp_path / ".extract-run-that-died"
    dead.mkdir()
    (dead / "3f2a.utf8.csv").write_text("会员编号,姓名,手机\nM1,张三,13800138000\n", encoding="utf-8")
    (tmp_path / "data.csv").write_text("kept\n", encoding="utf-8")
    scratch = tmp_path / "w.duckdb.scratch" / "scratch-1"  # a dedupe killed with its keys in Parquet
    scratch.mkdir(parents=True)
    (scratch / "keys.parquet").write_bytes(b"PAR1")
    with (
        caplog.at_level(logging.WARNING, logger="t"),
        warehouse_lock(warehouse, "run", logging.getLogger("t")),
    ):
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "w.duckdb.lock"]
    assert [r.getMessage() for r in caplog.records] == [
        "removed .extract-run-that-died, left by a run that died",
        "removed w.duckdb.scratch, left by a run that died",
    ]
