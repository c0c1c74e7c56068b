"""How the command line talks to people and to Prefect: quiet console, full log file, a running server.

The console shows progress lines without tracebacks; the log file (`<warehouse folder>/logs/segments.log`,
rotated) keeps everything, tracebacks included. Failed-run records of Prefect's engine are left off the
console because the command prints the error itself, once. `--debug` shows everything on the console too.

A command that runs a flow reports it to a Prefect server already running on this machine (the one
`make stack-up` starts), so the run shows in its UI; without one, Prefect starts a temporary server.
"""

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

import httpx

from tasks.shared.errors import first_line

LOG_NAME = "segments.log"
CLI_LOGGER = "segments.cli"
ENGINE_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "prefect.engine", "prefect.flow_engine")
QUIET_LOGGERS = ("prefect.extra", "prefect._internal", "uvicorn", "fastapi")  # they do not propagate to root


class WithoutTraceback(logging.Formatter):
    """Formats a record with another formatter, leaving out its traceback (the record is not changed)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        bare = logging.makeLogRecord(record.__dict__)
        bare.exc_info = bare.exc_text = bare.stack_info = None
        return self.inner.format(bare)


class WithTraceback(logging.Formatter):
    """The log file's format; formats the traceback itself even when a console formatter cached none."""

    def format(self, record: logging.LogRecord) -> str:
        full = logging.makeLogRecord(record.__dict__)
        full.exc_text = None
        return super().format(full)


def engine_failure(record: logging.LogRecord) -> bool:
    """False for the engine's own error records (a failed task or flow); the command reports those once."""
    return not (record.levelno >= logging.ERROR and record.name.startswith(ENGINE_LOGGERS))


def log_path(warehouse: Path) -> Path:
    """The command line's log file, beside the warehouse."""
    return warehouse.parent / "logs" / LOG_NAME


class LogFile(RotatingFileHandler):
    """The run's log file. A record it cannot write (a full disk) is said once on the console, not as a traceback for
    every record after it (logging's default); the console goes on showing the run."""

    said = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if not self.said:
            self.said = True
            sys.stderr.write(f"warning: cannot write the log file {self.baseFilename}: {sys.exc_info()[1]}\n")


def configure_logging(log_file: Path, debug: bool) -> None:
    """Prefect's logging, plus the log file; without debug the console leaves out tracebacks."""
    from prefect.logging.configuration import setup_logging
    from prefect.logging.handlers import PrefectConsoleHandler

    setup_logging()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = LogFile(log_file, maxBytes=10_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(WithTraceback("%(asctime)s %(levelname)-7s %(name)s - %(message)s"))
    for name in ("", *QUIET_LOGGERS):
        logging.getLogger(name).addHandler(file_handler)
    cli = logging.getLogger(CLI_LOGGER)  # the command's own records: the log file only
    cli.setLevel(logging.INFO)
    cli.propagate = False
    cli.addHandler(file_handler)
    if debug:
        return
    for name in ("", *QUIET_LOGGERS):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler) and not isinstance(
                handler.formatter, WithoutTraceback
            ):
                handler.setFormatter(WithoutTraceback(handler.formatter or logging.Formatter()))
                handler.addFilter(engine_failure)


def running_server() -> str | None:
    """The API URL of a Prefect server to report runs to: the configured one, or one answering locally."""
    from prefect.settings import get_current_settings

    configured = get_current_settings().api.url
    if configured:
        return configured
    url = f"http://127.0.0.1:{os.environ.get('SEGMENTS_PREFECT_PORT', '4200')}/api"
    try:
        # connecting is quick or refused at once; a server busy starting up may take seconds to answer
        answer = httpx.get(f"{url}/health", timeout=httpx.Timeout(5.0, connect=1.0))
    except httpx.HTTPError:
        return None
    return url if answer.status_code == 200 and answer.text.strip() == "true" else None


def chain(error: BaseException) -> Iterator[BaseException]:
    """error and the errors it came from, each once (an error re-raised while handling its own wrapper makes a
    cycle); `raise ... from None` hides the context: an error handled on the way is not this one's cause."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def lost_connection(error: BaseException) -> bool:
    """Whether error, or an error it came from, is a connection to a server failing (httpx transport)."""
    return any(isinstance(current, httpx.TransportError) for current in chain(error))


def interrupted(error: BaseException) -> bool:
    """Whether a run failed because a signal stopped it: DuckDB answers the signal's exception with its own ("Query
    interrupted"), an erasure raises its CompactError from that, and Prefect's task engine, stopped by the signal
    before its task run existed, fails its cleanup with an error of its own ("Task run is not set") raised while
    handling Prefect's TerminationSignal, and DuckDB names the signal in an error of its own when it stopped
    DuckDB's call back into Python (reading a registered frame): each would read as an ordinary failure."""
    import duckdb
    from prefect.exceptions import TerminationSignal

    for current in chain(error):
        if isinstance(current, (duckdb.InterruptException, TerminationSignal)):
            return True
        if first_line(current) == "Query interrupted":
            return True
        # the signal raised in DuckDB's call back into Python: its error keeps the signal's name only
        if isinstance(current, duckdb.Error) and f"{TerminationSignal.__name__}:" in str(current):
            return True
    return False


def lost_server_advice(url: str) -> str:
    """What to do when the Prefect server a run reported to stopped answering during it."""
    return (
        f"The Prefect server at {url} stopped answering during the run (it was stopped, or restarted?). "
        "Stages that finished are committed in the warehouse; a stage cut short left nothing. Run the same "
        "command again once the server answers, or with no server running (the command then starts a "
        "temporary one)."
    )


_watcher: subprocess.Popen | None = None  # kept for the life of the process: its pipe closing is the signal


def start_temporary_server() -> None:
    """Start the temporary Prefect server the run reports to (the one Prefect would start on its first call), with a
    watcher that stops it if this process is killed (flows/reaper.py): SIGKILL runs no exit handler. The watcher
    starts first; each server process inherits the watcher's token in its environment, so it is the watcher's to
    stop from its first instruction on and no kill falls in between."""
    from prefect.server.api.server import SubprocessASGIServer

    from flows.reaper import TOKEN_VARIABLE

    server = SubprocessASGIServer()
    if server.running or sys.platform != "linux":
        server.start()
        return
    global _watcher
    token = uuid.uuid4().hex
    _watcher = subprocess.Popen(
        [sys.executable, "-m", "flows.reaper", token],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives a kill of this command's process group
    )
    os.environ[TOKEN_VARIABLE] = token  # the server's environment is a copy of this one
    try:
        server.start()
    finally:
        del os.environ[TOKEN_VARIABLE]


# The heartbeat a run reporting to a running server sends, as the stack's worker's runs do (deployments/stack.sh):
# the stack's automation marks Crashed a run whose heartbeats stopped (deployments/zombies.py). Prefect's own
# default (180 s in 3.9) is too slow for it.
HEARTBEAT_SECONDS = 60


@contextmanager
def prefect_server(say: Callable[[str | None], None] = lambda url: None) -> Iterator[str | None]:
    """Runs inside report to a running server when there is one (yields its URL), else to a temporary one (yields
    None). say: told the URL (None: a temporary server) before the server is started."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    url = running_server()
    say(url)
    if url is None:
        start_temporary_server()
        yield url
        return
    updates = {} if url == get_current_settings().api.url else {PREFECT_API_URL: url}
    # the heartbeat of the stack's worker's runs, unless one is set (environment, profile, prefect.toml)
    with temporary_settings(
        updates=updates, set_defaults={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: HEARTBEAT_SECONDS}
    ):
        yield url
