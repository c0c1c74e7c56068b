"""Deployments on a real Prefect server: deploy from deployments/prefect.yaml, run through a worker,
launch runs through the REST API exactly as the UI's run form does, and render that form in Chromium."""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from sampledata import generate
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO, SAMPLE_END, write_config

pytestmark = pytest.mark.e2e

PREFECT = str(Path(REPO) / ".venv" / "bin" / "prefect")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Stack:
    """A running Prefect server and worker with both deployments."""

    ui: str
    api: str
    deployments: dict[str, str]  # name -> id
    logs: Path


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, seconds: float, what: str) -> None:
    """Poll condition until it is true, or fail naming what did not happen."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Server on a free loopback port, process work pool, `prefect deploy --all`, one worker."""
    home = tmp_path_factory.mktemp("prefect-stack")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_UI_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    logs = home / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        log = (logs / f"{name}.log").open("w")
        processes.append(
            subprocess.Popen([PREFECT, *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        )

    def run(*args: str) -> str:
        done = subprocess.run(
            [PREFECT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    try:
        start("server", "server", "start", "--host", "127.0.0.1", "--port", str(port))
        wait_for(lambda: healthy(api), 180, f"the Prefect server on port {port} (log: {logs / 'server.log'})")
        run("work-pool", "create", "segments", "--type", "process")
        run("--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml")
        start("worker", "worker", "start", "--pool", "segments")
        found = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
        yield Stack(
            ui=f"http://127.0.0.1:{port}", api=api, deployments={d["name"]: d["id"] for d in found}, logs=logs
        )
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small sample data and a config for the runs the worker executes."""
    data = tmp_path_factory.mktemp("stack-data")
    generate(data, customers=600, seed=11, end=SAMPLE_END)
    return write_config(data, tmp_path_factory.mktemp("stack-work"))


def create_run(stack: Stack, deployment: str, parameters: dict) -> str:
    """POST a flow run of a deployment with parameters, as the UI's run form does; return its id."""
    response = httpx.post(
        f"{stack.api}/deployments/{stack.deployments[deployment]}/create_flow_run",
        json={"parameters": parameters, "state": {"type": "SCHEDULED"}},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def final_state(stack: Stack, run_id: str, seconds: float = 420) -> str:
    """Wait for a flow run to finish; return its state type."""
    state: dict = {}

    def finished() -> bool:
        state.update(httpx.get(f"{stack.api}/flow_runs/{run_id}", timeout=10).json()["state"])
        return state["type"] in FINAL_STATES

    wait_for(finished, seconds, f"flow run {run_id} (worker log: {stack.logs / 'worker.log'})")
    return state["type"]


def published_runs(config: Path) -> list[tuple]:
    """(as_of, published_at) of every publish, in the order they happened."""
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select as_of, published_at from published.runs order by published_at")


def test_both_deployments_are_on_the_server_with_the_schedule(stack: Stack) -> None:
    assert set(stack.deployments) == {"daily-refresh", "backfill", "erase-customer"}
    daily = httpx.get(f"{stack.api}/deployments/{stack.deployments['daily-refresh']}", timeout=10).json()
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in daily["schedules"]] == [
        ("0 6 * * *", "Asia/Shanghai", True)
    ]
    backfill = httpx.get(f"{stack.api}/deployments/{stack.deployments['backfill']}", timeout=10).json()
    assert backfill["schedules"] == []
    properties = backfill["parameter_openapi_schema"]["properties"]
    assert properties["start"]["format"] == "date"
    assert properties["start"]["description"] == "First as_of day (YYYY-MM-DD)."
    assert properties["overwrite"]["default"] is False
    assert backfill["parameter_openapi_schema"]["required"] == ["start", "end"]


def test_backfill_from_the_run_form_publishes_every_day_once_in_order(
    stack: Stack, stack_config: Path
) -> None:
    run_id = create_run(
        stack,
        "backfill",
        {"start": "2026-11-18", "end": "2026-11-20", "overwrite": False, "config": str(stack_config)},
    )
    assert final_state(stack, run_id) == "COMPLETED"
    assert [as_of for as_of, _ in published_runs(stack_config)] == [
        date(2026, 11, 18),
        date(2026, 11, 19),
        date(2026, 11, 20),
    ]
    children = httpx.post(
        f"{stack.api}/flow_runs/filter",
        json={"flow_runs": {"parent_flow_run_id": {"operator": "and_", "any_": [run_id]}}},
        timeout=10,
    )
    names = sorted(r["name"] for r in children.json()) if children.status_code == 200 else []
    assert names == ["daily-refresh-2026-11-18", "daily-refresh-2026-11-19", "daily-refresh-2026-11-20"]


def test_a_scheduled_refresh_and_a_backfill_at_the_same_time_both_complete(
    stack: Stack, stack_config: Path
) -> None:
    before = len(published_runs(stack_config))
    daily = create_run(stack, "daily-refresh", {"as_of": "2026-11-21", "config": str(stack_config)})
    backfill = create_run(
        stack, "backfill", {"start": "2026-11-14", "end": "2026-11-15", "config": str(stack_config)}
    )
    assert (final_state(stack, daily), final_state(stack, backfill)) == ("COMPLETED", "COMPLETED")
    new = [as_of for as_of, _ in published_runs(stack_config)][before:]
    assert sorted(new) == [date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 21)]
    assert new.index(date(2026, 11, 14)) < new.index(date(2026, 11, 15))


def test_the_run_form_renders_parameters_and_descriptions(stack: Stack, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium is needed: apt-get install chromium (make test installs it)"
    url = f"{stack.ui}/deployments/deployment/{stack.deployments['backfill']}/run"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1280,1400",
        "--virtual-time-budget=20000",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    ).stdout
    for text in (
        "First as_of day (YYYY-MM-DD).",
        "Last as_of day (YYYY-MM-DD), inclusive; today at the latest.",
        "Recompute days that are already published (otherwise they are skipped).",
        "Path of the pipeline config YAML, relative to the run's working directory.",
    ):
        assert text in dom, f"the run form does not show {text!r}"
    screenshot = tmp_path / "backfill-run-form.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=120)
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("SEGMENTS_SCREENSHOT_DIR"):  # to refresh the README's picture
        shutil.copy(screenshot, Path(os.environ["SEGMENTS_SCREENSHOT_DIR"]) / screenshot.name)
