"""Error kinds, and the rule that decides which ones a task retries."""

import errno
import os
from typing import Any

import duckdb


class DataError(ValueError):
    """Bad input data or config: retrying cannot help, the message says what to fix."""


class WaitedTooLong(TimeoutError):
    """A wait for another process (a run, a reader of the warehouse) reached the run's time limit.

    Not retried: the wait already took the whole limit (orchestration.timeout_seconds).
    """


# Errors worth another try: the file system, a lock held by another writer, a dropped connection.
# OSErrors that another try cannot fix are not among them: a missing file, no permission, a full
# disk or quota, a read-only file system. Each would fail the same way three more times (42 s).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, duckdb.IOException)
PERMANENT_OS_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    FileExistsError,  # a name taken by a file where a folder is made: it stays taken
)
PERMANENT_ERRNOS = {
    errno.ENOENT,
    errno.EACCES,
    errno.EPERM,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.EEXIST,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
}
# What DuckDB says of a database file cut short or overwritten (a full disk, a copy made mid-write): a bad
# header, a block past the end, a block whose checksum fails.
DAMAGED_FILE_TEXTS = (
    "not a valid duckdb database file",
    "could not read enough bytes from file",
    "corrupt database file",
)
# DuckDB reports the same conditions as text in an IOException ("... No space left on device"), and a
# damaged warehouse file the same way.
PERMANENT_IO_TEXTS = (
    *(
        os.strerror(code).lower()
        for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
    ),
    *DAMAGED_FILE_TEXTS,
)
DAMAGED_FILE_ADVICE = (
    "The warehouse file is damaged (cut short or overwritten: a full disk, a copy made while a run wrote it). "
    "Restore it from a backup, or move it aside and run again: the sources rebuild it (`segments backfill` "
    "for past days); the export folders keep every published day's files."
)


def first_line(error: BaseException, limit: int = 300) -> str:
    """The first line of an error's message, at most limit characters: what a one-line report quotes."""
    return (str(error).strip().splitlines() or [""])[0][:limit]


def is_damaged_file(error: BaseException) -> bool:
    """Whether error is DuckDB finding a database file damaged (not retried; the CLI says what to do)."""
    return any(text in str(error).lower() for text in DAMAGED_FILE_TEXTS)


def is_transient(error: BaseException) -> bool:
    """Whether error may go away on retry (I/O, locks), as opposed to a data, code or permanent I/O error."""
    if isinstance(error, (DataError, WaitedTooLong, *PERMANENT_OS_ERRORS)):
        return False
    if isinstance(error, OSError) and error.errno in PERMANENT_ERRNOS:
        return False
    if isinstance(error, duckdb.Error) and any(text in str(error).lower() for text in PERMANENT_IO_TEXTS):
        return False
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    return "could not set lock" in str(error).lower()


def with_path(error: OSError, path: object) -> OSError:
    """error naming path when it names no file (a write to an open handle: `[Errno 28] No space left on device`).

    The new error has the same errno, so the same OSError subclass and the same retry decision.
    """
    if error.filename is not None or error.errno is None:
        return error
    named = OSError(error.errno, error.strerror or os.strerror(error.errno), str(path))
    named.__cause__ = error
    return named


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry_condition_fn: retry a failed task run only for transient errors."""
    try:
        state.result()
    except BaseException as error:  # noqa: BLE001 - the state re-raises whatever the task raised
        return is_transient(error)
    return False


def __getattr__(name: str) -> Any:
    """STAGE_TASK_OPTIONS, made on first use: what imports this module (the preflight check) need not import Prefect."""
    if name != "STAGE_TASK_OPTIONS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from prefect.cache_policies import NO_CACHE

    # Options every stage task shares: three retries with backoff, for transient errors only.
    # Stages write to the warehouse, so Prefect's result cache must never skip one.
    options: dict[str, Any] = {
        "cache_policy": NO_CACHE,
        "retries": 3,
        "retry_delay_seconds": [2, 10, 30],
        "retry_condition_fn": retry_transient,
    }
    globals()[name] = options
    return options
