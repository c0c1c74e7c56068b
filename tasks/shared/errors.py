"""Error kinds, and the rule that decides which ones a task retries."""

import errno
from typing import Any

import duckdb


class DataError(ValueError):
    """Bad input data or config: retrying cannot help, the message says what to fix."""


# Errors worth another try: the file system, a lock held by another writer, a dropped connection.
# OSErrors that another try cannot fix (a missing file, no permission) are not among them.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, duckdb.IOException)
PERMANENT_OS_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)
PERMANENT_ERRNOS = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR}


def is_transient(error: BaseException) -> bool:
    """Whether error may go away on retry (I/O, locks), as opposed to a data or code error."""
    if isinstance(error, (DataError, *PERMANENT_OS_ERRORS)):
        return False
    if isinstance(error, OSError) and error.errno in PERMANENT_ERRNOS:
        return False
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    return "could not set lock" in str(error).lower()


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
