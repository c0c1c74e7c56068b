"""A real Prefect stack for the end-to-end tests: server, process work pool, deployments, worker, and
Chromium to render the UI. Every process started here carries SEGMENTS_TEST_STACK=<home> in its
environment (flow runs inherit it from the worker, though the worker starts them in sessions of their
own), so teardown stops all of them."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import yaml

from bench.postgres import free_port  # noqa: F401 - the tests' free ports come from here
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO

PREFECT = str(Path(sys.executable).parent / "prefect")  # this environment's (main or lake)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHIPPED = Path(REPO) / "deployments" / "prefect.yaml"
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
MARKER = "SEGMENTS_TEST_STACK"
# A Prefect server on SQLite answers 503 "Service Unavailable" when a write meets another (SQLITE_BUSY,
# which a busy timeout does not cover when a read transaction turns into a write); Prefect's own
# client retries such answers with backoff, so the tests' calls do too.
RETRY_DELAYS = (0.5, 1, 2, 4, 8)


def api_call(method: str, url: str, body: dict | None = None) -> httpx.Response:
    """One call of the Prefect API, repeated after the delays while the server answers 503."""
    for delay in RETRY_DELAYS:
        response = httpx.request(method, url, json=body, timeout=10)
        if response.status_code != 503:
            return response
        time.sleep(delay)
    return httpx.request(method, url, json=body, timeout=10)


@dataclass
class Stack:
    """A running Prefect server and worker with the deployments of one prefect.yaml."""

    ui: str
    api: str
    logs: Path
    deployments: dict[str, str] = field(default_factory=dict)  # name -> id

    def get(self, path: str) -> dict | list:
        """GET an API path; fail on an error status."""
        response = api_call("GET", f"{self.api}{path}")
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict) -> dict | list:
        """POST an API path; fail on an error status."""
        response = api_call("POST", f"{self.api}{path}", body)
        response.raise_for_status()
        return response.json()

    def flow_runs(self, deployment: str) -> list[dict]:
        """Every flow run of a deployment, soonest expected start first."""
        return self.post(
            "/flow_runs/filter",
            {
                "deployments": {"id": {"any_": [self.deployments[deployment]]}},
                "sort": "EXPECTED_START_TIME_ASC",
            },
        )


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], object], seconds: float, what: str, every: float = 1) -> None:
    """Poll condition until it is true, or fail naming what did not happen."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def healthy(api: str) -> bool:
    """Whether the server answers on its health endpoint."""
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def prefect_env(home: Path, port: int, **extra: str) -> dict[str, str]:
    """This environment without PREFECT_* settings, pointed at a server on 127.0.0.1:port."""
    api = f"http://127.0.0.1:{port}/api"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "SEGMENTS_CONFIG"},
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_UI_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        **extra,
    }


def environ(pid: int) -> dict[str, str]:
    """The environment of a live process ({} when it is gone or unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def pids_with(name: str, value: str) -> list[int]:
    """Live, not zombie, processes whose environment has name=value."""
    found = []
    for entry in Path("/proc").iterdir():
        if (
            entry.name.isdigit()
            and environ(int(entry.name)).get(name) == value
            and not zombie(int(entry.name))
        ):
            found.append(int(entry.name))
    return found


def zombie(pid: int) -> bool:
    """Whether pid has exited and waits to be reaped (or is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def stop_marked(value: str, seconds: float = 10) -> None:
    """TERM every process marked with value, then KILL what is left after seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids_with(MARKER, value):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + seconds
        while pids_with(MARKER, value) and time.monotonic() < deadline:
            time.sleep(0.25)


def wait_out_the_daily_run(minutes: float) -> None:
    """Wait until the shipped daily schedule (deployments/prefect.yaml) has fired, if it falls due within minutes.

    For the moments when a test of the shipped deployments cannot have it fire: while it reads the upcoming
    runs (the first would change under it), or while a stack comes up before the test pauses its schedule (a
    scheduled run of yesterday would publish a day the test did not start). Keep minutes to what those moments
    take: a suite that reaches them shortly before 06:00 in Shanghai waits that long (it waited ten minutes
    before a whole module when the module's runs shared the scheduled run's warehouse). Outside that window
    this returns at once."""
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    daily = next(d for d in shipped["deployments"] if d["name"] == "daily-refresh")
    (schedule,) = daily["schedules"]
    minute, hour, *every_day = schedule["cron"].split()
    assert every_day == ["*", "*", "*"], f"a daily cron is expected here, not {schedule['cron']!r}"
    zone = ZoneInfo(schedule["timezone"])
    now = datetime.now(zone)
    due = now.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
    if due <= now - timedelta(minutes=1):
        due += timedelta(days=1)
    wait = (due - now).total_seconds() + 60  # and the run it starts has been created
    if wait <= minutes * 60 + 60:
        print(
            f"waiting {wait:.0f} s: the shipped daily schedule falls due at {due:%H:%M %Z}", file=sys.stderr
        )
        time.sleep(wait)


@contextmanager
def prefect_stack(
    home: Path,
    prefect_file: Path = SHIPPED,
    server_env: dict[str, str] | None = None,
    worker_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Server on a free loopback port, process work pool `segments`, `prefect deploy --all` of
    prefect_file (from the repository root, where entrypoints resolve), one worker."""
    port = free_port()
    env = prefect_env(home, port, **{MARKER: str(home)})
    logs = home / "logs"
    logs.mkdir(parents=True)
    processes: list[subprocess.Popen] = []

    def start(name: str, extra: dict[str, str], *args: str) -> None:
        log = (logs / f"{name}.log").open("w")
        processes.append(
            subprocess.Popen(
                [PREFECT, *args],
                cwd=REPO,
                env={**env, **extra},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def run(*args: str) -> str:
        done = subprocess.run(
            [PREFECT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    stack = Stack(ui=f"http://127.0.0.1:{port}", api=env["PREFECT_API_URL"], logs=logs)
    try:
        start("server", server_env or {}, "server", "start", "--host", "127.0.0.1", "--port", str(port))
        wait_for(
            lambda: healthy(stack.api), 180, f"the Prefect server on port {port} (log: {logs / 'server.log'})"
        )
        run("work-pool", "create", "segments", "--type", "process")
        run("--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file))
        start("worker", worker_env or {}, "worker", "start", "--pool", "segments")
        stack.deployments = {d["name"]: d["id"] for d in stack.post("/deployments/filter", {})}
        yield stack
    finally:
        # The 3.9.1 worker does not exit on its first SIGTERM (it keeps polling), hence the KILL after 10 s.
        stop_marked(str(home))
        for process in processes:
            process.wait(timeout=10)


def auto_scheduled(stack: Stack, deployment: str) -> list[dict]:
    """Runs of a deployment that the scheduler service created (not the API), soonest first."""
    return [r for r in stack.flow_runs(deployment) if r["auto_scheduled"]]


def wait_for_scheduled(
    stack: Stack, deployment: str, count: int, seconds: float = 90, after: datetime | None = None
) -> list[dict]:
    """Wait until the scheduler service has created count runs of a deployment (expected to start after
    after, when given); return them, soonest first. On a timeout the message quotes the scheduler's last
    error from the server log."""

    def runs() -> list[dict]:
        found = auto_scheduled(stack, deployment)
        return found if after is None else [r for r in found if utc(r["expected_start_time"]) > after]

    try:
        wait_for(lambda: len(runs()) >= count, seconds, f"{count} scheduled runs")
    except AssertionError as timeout:
        log = (stack.logs / "server.log").read_text(errors="replace").splitlines()
        errors = [
            line for line in log if "Error scheduling" in line or line.startswith(("ValueError", "TypeError"))
        ]
        raise AssertionError(
            f"{timeout} of {deployment}; the scheduler's last errors ({stack.logs / 'server.log'}):\n"
            + "\n".join(errors[-2:])
        ) from None
    return runs()


def create_run(stack: Stack, deployment: str, parameters: dict) -> str:
    """POST a flow run of a deployment with parameters, as the UI's run form does; return its id."""
    response = api_call(
        "POST",
        f"{stack.api}/deployments/{stack.deployments[deployment]}/create_flow_run",
        {"parameters": parameters, "state": {"type": "SCHEDULED"}},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def final_state(stack: Stack, run_id: str, seconds: float = 420) -> str:
    """Wait for a flow run to finish; return its state type."""
    state: dict = {}

    def finished() -> bool:
        state.update(stack.get(f"/flow_runs/{run_id}")["state"])
        return state["type"] in FINAL_STATES

    wait_for(finished, seconds, f"flow run {run_id} (worker log: {stack.logs / 'worker.log'})")
    return state["type"]


def published_runs(config: Path) -> list[tuple]:
    """(as_of, published_at) of every publish, in the order they happened (none before the first run)."""
    if not load_config(config).warehouse_path.exists():
        return []
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select as_of, published_at from published.runs order by published_at")


def utc(text: str) -> datetime:
    """A timestamp of the API as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def chromium(
    url: str, profile: Path, *args: str, budget_ms: int = 20000, tz: str = "UTC"
) -> subprocess.CompletedProcess:
    """Headless Chromium on url (a fresh profile) in time zone tz, with extra args (--dump-dom, ...)."""
    assert Path(CHROMIUM).exists(), "Chromium is needed: apt-get install chromium (make test installs it)"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1400",
        f"--virtual-time-budget={budget_ms}",
    ]
    return subprocess.run(
        [CHROMIUM, *flags, *args, url],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "TZ": tz},
    )


def rendered_text(url: str, profile: Path, expected: list[str], tz: str = "UTC", tries: int = 4) -> str:
    """The visible text of a page once it shows every expected string (or after tries renders).

    The UI fills its lists from API calls after the first paint; on a busy machine Chromium's virtual
    time budget can run out before they answer (CI at da64ce4: the Upcoming tab showed "3 Flow runs" and
    no rows in three 20 s renders), so a render that lacks them is tried again with a longer budget."""
    text = ""
    for attempt in range(tries):
        budget_ms = 20000 * (attempt + 1)
        dom = chromium(url, profile / f"render-{attempt}", "--dump-dom", budget_ms=budget_ms, tz=tz).stdout
        visible = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)
        text = " ".join(re.sub(r"<[^>]+>", " ", visible).split())
        if all(item in text for item in expected):
            break
    return text
