"""One writer at a time: an OS file lock beside the warehouse file.

DuckDB lets one process write a database file; a second writer fails at once with "Could not set
lock on file". Runs therefore take this lock for their whole duration (all stages of one as_of),
so a scheduled run, a backfill and a manual run queue instead of failing or interleaving stages.

Why a file lock rather than a Prefect global concurrency limit: it works with and without a Prefect
server (CLI, tests, workers), it is released by the kernel when a process dies (no leaked slots
after a crashed worker), and the DuckDB file it guards is local to this machine anyway.

Whoever gets the lock knows that no other run is alive, so it removes what dead runs left beside
the warehouse (`.extract-<run>/` transcoding folders of a run killed mid-extract). Readers do not take
this lock; DuckDB's own lock on the file tells who has it open (`duckdb_lock_holder`), and the
warehouse waits for readers to close it (tasks/shared/warehouse.py).
"""

import fcntl
import json
import logging
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from tasks.shared.errors import WaitedTooLong

# Folders a run keeps beside the warehouse while it works (tasks/extract/raw.py: `.extract-<run>/`).
RUN_WORK_FOLDERS = ".extract-*"


class WarehouseLockTimeout(WaitedTooLong):
    """The lock was not free within the allowed wait."""


def lock_path(warehouse: Path) -> Path:
    """The lock file that guards a warehouse file."""
    return warehouse.with_name(warehouse.name + ".lock")


def lock_holder(warehouse: Path) -> str:
    """Who holds (or last held) the warehouse lock, for messages."""
    try:
        info = json.loads(lock_path(warehouse).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "unknown"
    if not info:
        return "unknown"
    return f"{info.get('holder')} (pid {info.get('pid')} on {info.get('host')}, since {info.get('since')})"


def duckdb_lock_holder(message: str) -> tuple[str, bool]:
    """Who holds a DuckDB file lock, from the text of DuckDB's lock error: (description, whether a reader).

    DuckDB names the process (`Conflicting lock is held in /usr/bin/python3 (PID 4242)`) and, when that
    process opened the file read-only, adds that a read-only open would work. The description adds the
    process's command line when this machine can tell it (Linux /proc), e.g. `a read-only connection
    of pid 4242 (jupyter-lab --port 8888)`.
    """
    reader = "read-only mode" in message
    kind = "a read-only connection" if reader else "a writing connection"
    found = re.search(r"held in (.+?) \(PID (\d+)\)", message)
    if found is None:
        return f"{kind} of another process", reader
    program, pid = found.groups()
    try:
        command = (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        )
    except OSError:
        command = ""
    command = command or program
    return f"{kind} of pid {pid} ({command if len(command) <= 160 else command[:159] + '…'})", reader


def scratch_folder(warehouse: Path) -> Path:
    """The folder of a warehouse file's scratch spaces (Warehouse.scratch): <warehouse>.scratch beside it."""
    return warehouse.with_name(warehouse.name + ".scratch")


def run_work_folders(warehouse: Path) -> list[Path]:
    """The work folders runs keep beside the warehouse while they work (a dead run's are left there):
    transcoded source files (`.extract-<run>/`) and the scratch folder; not symlinks."""
    folders = [*sorted(warehouse.parent.glob(RUN_WORK_FOLDERS)), scratch_folder(warehouse)]
    return [folder for folder in folders if folder.is_dir() and not folder.is_symlink()]


def remove_dead_run_leftovers(warehouse: Path) -> list[str]:
    """Remove the work folders of runs that died (call with the lock held: no other run is alive); return them."""
    removed = []
    for folder in run_work_folders(warehouse):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


@contextmanager
def warehouse_lock(
    warehouse: Path,
    holder: str,
    logger: logging.Logger | logging.LoggerAdapter,
    *,
    timeout_seconds: float | None = None,
    log_every_seconds: float = 30.0,
    poll_seconds: float = 0.5,
    catalog: str | None = None,
) -> Iterator[None]:
    """Hold the warehouse's write lock inside the block; wait (and say so) while another run holds it.

    catalog: a lake's catalog URI (PostgreSQL): its advisory lock is taken too (catalog_lock), so that runs
    on other hosts, which share the catalog but not this file, also write one at a time.
    """
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:

        def locked() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        waited = wait_for(
            locked,
            lambda: lock_holder(warehouse),
            f"the warehouse lock {path}",
            "the warehouse lock",
            logger,
            timeout_seconds=timeout_seconds,
            log_every_seconds=log_every_seconds,
            poll_seconds=poll_seconds,
        )
        if waited >= poll_seconds:
            logger.info("got the warehouse lock after %.1f s", waited)
        info = {
            "holder": holder,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        held = nullcontext()
        if catalog is not None:  # PostgreSQL keeps 63 bytes of a name: who and where first
            left = None if timeout_seconds is None else max(timeout_seconds - waited, 0.0)
            name = f"pid {os.getpid()} on {socket.gethostname()}: {holder}"
            held = catalog_lock(
                catalog,
                name,
                logger,
                timeout_seconds=left,
                log_every_seconds=log_every_seconds,
                poll_seconds=poll_seconds,
            )
        try:
            with held:
                for folder in remove_dead_run_leftovers(warehouse):
                    logger.warning("removed %s, left by a run that died", folder)
                yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def wait_for(
    locked: Callable[[], bool],
    holder: Callable[[], str],
    lock: str,
    waiting: str,
    logger: logging.Logger | logging.LoggerAdapter,
    *,
    timeout_seconds: float | None,
    log_every_seconds: float,
    poll_seconds: float,
) -> float:
    """Try locked() until it takes the lock; return the seconds waited. Meanwhile log who holds it (holder())
    every log_every_seconds as `waiting for <waiting>, held by …`, and after timeout_seconds raise
    WarehouseLockTimeout: `waited N s for <lock>, held by …`."""
    started = time.monotonic()
    next_log = 0.0
    while not locked():
        waited = time.monotonic() - started
        if timeout_seconds is not None and waited >= timeout_seconds:
            raise WarehouseLockTimeout(f"waited {waited:.0f} s for {lock}, held by {holder()}")
        if waited >= next_log:
            logger.info("waiting for %s, held by %s (%.0f s so far)", waiting, holder(), waited)
            next_log = waited + log_every_seconds
        time.sleep(poll_seconds)
    return time.monotonic() - started


# The advisory lock a lake's writers take in its PostgreSQL catalog (any fixed 64-bit number: "segments").
CATALOG_LOCK = 0x7365676D656E7473


@contextmanager
def catalog_lock(
    catalog: str,
    holder: str,
    logger: logging.Logger | logging.LoggerAdapter,
    *,
    timeout_seconds: float | None = None,
    log_every_seconds: float = 30.0,
    poll_seconds: float = 0.5,
) -> Iterator[None]:
    """Hold a lake's writer lock, a PostgreSQL advisory lock in its catalog, inside the block.

    The lock belongs to a connection of its own, named holder (application_name), so a waiting run says who
    holds it, on whichever host. PostgreSQL releases it when that connection ends, a killed run's included.
    """
    import adbc_driver_postgresql.dbapi as adbc

    con = adbc.connect(catalog, autocommit=True)
    try:
        with con.cursor() as cursor:
            cursor.execute("select set_config('application_name', $1, false)", parameters=(holder,))
            cursor.fetchall()

            def locked() -> bool:
                cursor.execute("select pg_try_advisory_lock($1)", parameters=(CATALOG_LOCK,))
                return bool(cursor.fetchone()[0])

            wait_for(
                locked,
                lambda: _catalog_holder(cursor),
                "the lake's writer lock",
                "the lake's writer lock",
                logger,
                timeout_seconds=timeout_seconds,
                log_every_seconds=log_every_seconds,
                poll_seconds=poll_seconds,
            )
        yield
    finally:
        con.close()  # the session ends: PostgreSQL releases the lock


def _catalog_holder(cursor: object) -> str:
    """The application_name of the session holding the catalog lock (what its run called itself)."""
    cursor.execute(  # type: ignore[attr-defined]
        "select activity.application_name from pg_locks as locks "
        "join pg_stat_activity as activity using (pid) "
        "where locks.locktype = 'advisory' and locks.granted "
        "and (locks.classid::bigint << 32) | locks.objid::bigint = $1",
        parameters=(CATALOG_LOCK,),
    )
    row = cursor.fetchone()  # type: ignore[attr-defined]
    return row[0] if row and row[0] else "another session"


def locked_message(database: str | Path, holder: str, reader: bool, exc: Exception) -> str:
    """Why the warehouse file cannot be opened now, naming who has it open."""
    if reader:
        return (
            f"warehouse {database} is open read-only in another process, so it cannot be written now: "
            f"{holder}, a reader such as a BI tool, a notebook or `segments profile`. DuckDB said: {exc}"
        )
    return (
        f"warehouse {database} is locked by another process (a run is writing to it), {holder}; "
        f"retry when it has finished. DuckDB said: {exc}"
    )


def wait_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow or task run (the wait shows in the UI), else the warehouse module's logger."""
    if "prefect" in sys.modules:
        from prefect.exceptions import MissingContextError
        from prefect.logging import get_run_logger

        try:
            return get_run_logger()
        except MissingContextError:
            pass
    return logging.getLogger("tasks.shared.warehouse")  # the waits are the warehouse's: logged under its name
