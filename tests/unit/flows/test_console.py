"""The command's console: how a run that lost its Prefect server is told apart from other failures, and a log file
that cannot be written is said once."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flows.console import lost_connection, lost_server_advice
from tests.conftest import REPO


def raised(error: BaseException, cause: BaseException | None = None) -> BaseException:
    """error as raised (from cause, when given), with its traceback and chain."""
    try:
        if cause is None:
            raise error
        raise error from cause
    except BaseException as caught:  # noqa: BLE001 - the test's own errors
        return caught


def test_a_refused_or_dropped_connection_is_a_lost_server() -> None:
    assert lost_connection(raised(httpx.ConnectError("[Errno 111] Connection refused")))
    assert lost_connection(
        raised(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    )
    assert lost_connection(raised(RuntimeError("task run failed"), httpx.ReadError("reset by peer")))


def test_other_failures_are_not() -> None:
    assert not lost_connection(raised(ValueError("bad value")))
    assert not lost_connection(
        raised(httpx.HTTPStatusError("500", request=None, response=None))
    )  # it answered
    assert not lost_connection(raised(RuntimeError("outer"), ValueError("inner")))


def test_a_cycle_in_the_chain_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert not lost_connection(first)


@pytest.mark.parametrize("url", ["http://127.0.0.1:4200/api", "https://prefect.example.com/api"])
def test_the_advice_names_the_server(url: str) -> None:
    advice = lost_server_advice(url)
    assert advice.startswith(f"The Prefect server at {url} stopped answering during the run")
    assert "Run the same command again once the server answers" in advice


def test_the_check_command_loads_no_model_or_orchestration_stack() -> None:
    # `segments check` answers in about a second: what it imports must not load scikit-learn or Prefect
    # (tasks/shared/rfm_names.py holds the names it checks, apart from the segment stage's package)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from flows.cli import checked_config\n"
        "checked_config(Path('config/demo.yaml'), sources=False)\n"
        "print(sorted(m for m in ('sklearn', 'prefect', 'tasks.segment', 'tasks.predict') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert loaded.stdout == "[]\n"


def test_a_log_file_that_cannot_be_written_is_said_once_not_as_a_traceback_per_record(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from flows.console import LogFile

    class FullDisk:
        def write(self, text: str) -> None:
            raise OSError(28, "No space left on device")

        def flush(self) -> None:
            pass

    handler = LogFile(tmp_path / "run.log", encoding="utf-8")
    handler.stream = FullDisk()
    logger = logging.getLogger("test.full_disk")
    logger.addHandler(handler)
    try:
        for n in range(3):
            logger.warning("record %d", n)
    finally:
        logger.removeHandler(handler)
    assert capsys.readouterr().err == (
        f"warning: cannot write the log file {tmp_path / 'run.log'}: [Errno 28] No space left on device\n"
    )


def test_a_query_stopped_by_a_signal_is_told_from_a_failure() -> None:
    import duckdb

    from flows.console import interrupted

    assert interrupted(duckdb.InterruptException("INTERRUPT Error: Interrupted!"))
    assert interrupted(RuntimeError("Query interrupted"))
    assert not interrupted(RuntimeError("Query failed: division by zero"))
    # an erasure's compaction stopped by SIGTERM: its CompactError is raised from DuckDB's interrupt
    from tasks.erase.compact import CompactError

    try:
        try:
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
        except duckdb.InterruptException as error:
            raise CompactError("the erasure is done, but compacting w.duckdb failed (…)") from error
    except CompactError as compact_error:
        assert interrupted(compact_error)
    assert not interrupted(CompactError("the erasure is done, but compacting w.duckdb failed (disk full)"))
    # SIGTERM as a task started: Prefect's engine fails its cleanup while handling its TerminationSignal
    import signal

    from prefect.exceptions import TerminationSignal

    try:
        try:
            raise TerminationSignal(signal.SIGTERM)
        except TerminationSignal:
            raise ValueError("Task run is not set")  # noqa: B904 (as Prefect's engine raises it)
    except ValueError as engine_error:
        assert interrupted(engine_error)
    # SIGTERM while DuckDB read a registered frame: DuckDB's own error keeps the signal's name only
    assert interrupted(
        duckdb.InvalidInputException(
            "Invalid Input Error: reading the schema of the object registered as '_frame' failed: TerminationSignal: "
        )
    )
    assert not interrupted(
        duckdb.InvalidInputException(
            "Invalid Input Error: reading the schema of the object registered as '_frame' failed"
        )
    )
    try:
        try:
            raise KeyError("a value")
        except KeyError:
            raise ValueError("a value is missing")  # noqa: B904
    except ValueError as ordinary:
        assert not interrupted(ordinary)


def test_an_error_chain_with_a_cycle_is_read_once() -> None:
    from flows.console import interrupted, lost_connection

    # an error re-raised while handling its own wrapper: its context is the wrapper, the wrapper's cause is it
    try:
        try:
            raise ValueError("a value")
        except ValueError as error:
            try:
                raise RuntimeError("wrapped") from error
            except RuntimeError:
                raise error  # noqa: B904
    except ValueError as cyclic:
        assert cyclic.__context__ is not None and cyclic.__context__.__cause__ is cyclic
        assert not interrupted(cyclic)
        assert not lost_connection(cyclic)


def test_a_run_reporting_to_a_running_server_beats_as_the_stack_s_runs_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.settings import get_current_settings

    import flows.console as console

    url = "http://127.0.0.1:9/api"  # a server of the user's: its address is all the context needs
    monkeypatch.setattr(console, "running_server", lambda: url)
    for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    with console.prefect_server() as found:
        assert found == url
        assert get_current_settings().api.url == url
        assert get_current_settings().flows.heartbeat_frequency == console.HEARTBEAT_SECONDS == 60
    # a heartbeat the user set is theirs (Prefect reads its settings when the process starts)
    script = (
        "import flows.console as c; from prefect.settings import get_current_settings as s\n"
        f"c.running_server = lambda: {url!r}\n"
        "with c.prefect_server(): print(s().flows.heartbeat_frequency)"
    )
    for name, value in (
        ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "90"),
        ("PREFECT_RUNNER_HEARTBEAT_FREQUENCY", "45"),
    ):
        found = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, name: value},
            capture_output=True,
            text=True,
            check=True,
        )
        assert found.stdout.split() == [value]
