"""Operating behaviour through real flow runs: retries, time limits, failure alerts, a resumed backfill, the CLI."""

import json
import subprocess
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from prefect import flow, task

from flows.backfill import backfill, backfill_id
from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.errors import STAGE_TASK_OPTIONS, DataError
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO, SAMPLE_END
from tests.lockholder import HOLD_LOCK, hold_lock


@pytest.mark.file_backend(
    "a DuckDB file has one writer and no reader beside it; a lake is read while a run writes"
)
def test_profile_command_says_a_run_is_writing(tmp_path: Path, sample_data: Path, make_config) -> None:
    config = make_config(sample_data)
    warehouse = load_config(config).warehouse_path
    Warehouse(warehouse).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_LOCK.replace(
                'print("held", flush=True)',
                'import duckdb; c = duckdb.connect(sys.argv[1]); print("held", flush=True)',
            ),
            str(warehouse),
            "20",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        done = subprocess.run(
            [sys.executable, "-m", "flows", "profile", "--config", str(config)],
            capture_output=True,
            text=True,
        )
    finally:
        holder.kill()
    assert done.returncode == 2
    assert "the warehouse is being written right now by a test holder (pid" in done.stderr


def test_stage_tasks_retry_transient_errors_but_not_data_errors(prefect_server: None) -> None:
    calls = {"transient": 0, "data": 0}
    options = {**STAGE_TASK_OPTIONS, "retry_delay_seconds": 0}

    @task(**options)
    def flaky() -> str:
        calls["transient"] += 1
        if calls["transient"] < 3:
            raise OSError("the disk was busy")
        return "done"

    @task(**options)
    def bad_data() -> None:
        calls["data"] += 1
        raise DataError("field amount: 'abc' is not a valid decimal(18,2)")

    @flow
    def stages() -> str:
        result = flaky()
        bad_data()
        return result

    with pytest.raises(DataError):
        stages()
    assert calls == {"transient": 3, "data": 1}


class Recorder(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> str:
    """A real HTTP server on loopback that records the JSON bodies posted to it."""
    Recorder.received = []
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts"
    server.shutdown()


def test_a_failed_run_posts_its_summary_to_the_webhook(
    prefect_server: None, tmp_path: Path, sample_data: Path, make_config, webhook: str
) -> None:
    config = make_config(sample_data, orchestration={"failure_webhook": webhook})
    text = config.read_text(encoding="utf-8").replace("crm/*.csv", "crm/missing-*.csv")
    config.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"source 'crm': no files match .*crm/missing-\*\.csv"):
        daily_refresh(as_of=SAMPLE_END, config=str(config))
    assert len(Recorder.received) == 1
    alert = Recorder.received[0]
    assert alert["flow"] == "daily-refresh"
    assert alert["state"] == "Failed"
    assert alert["parameters"] == {
        "as_of": "2026-11-22",
        "config": str(config),
        "full_refresh": None,
        "refit": False,
    }
    assert "no files match" in alert["message"]


def test_a_run_that_waits_too_long_for_the_lock_times_out(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    config = make_config(sample_data, orchestration={"timeout_seconds": 2})
    holder = hold_lock(load_config(config).warehouse_path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            daily_refresh(as_of=SAMPLE_END, config=str(config))
        assert time.monotonic() - started < 20
    finally:
        holder.kill()


def test_a_restarted_backfill_resumes_after_the_last_completed_day(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    config_path = make_config(sample_data)
    config = load_config(config_path)
    start, end = date(2026, 11, 19), date(2026, 11, 21)
    # an earlier attempt of the same request (overwrite) completed the 19th, then failed
    request = backfill_id(start, end, True, config)
    with Warehouse.open(config) as wh:
        wh.execute(
            "create table published.backfill_progress (backfill_id varchar, as_of date, flow_run_id varchar, "
            "finished_at timestamptz)"
        )
        wh.execute(
            "insert into published.backfill_progress values (?, ?, 'earlier', now())", [request, start]
        )
    assert backfill(start=start, end=end, overwrite=True, config=str(config_path)) == [
        "2026-11-20",
        "2026-11-21",
    ]
    with Warehouse.open(config, read_only=True) as wh:
        assert wh.scalar("select count(*) from published.backfill_progress") == 0  # finished: forgotten
    # the same request again starts over, since overwrite asks for it
    assert backfill(start=start, end=end, overwrite=True, config=str(config_path)) == [
        "2026-11-19",
        "2026-11-20",
        "2026-11-21",
    ]
