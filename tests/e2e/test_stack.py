"""deployments/stack.sh for real, on a free port with its own stack folder: `up` starts a server and a
worker that `status` reports running (and the server healthy); `down` stops every process they started,
a flow run in a session of its own included, before it says "stopped"; `status` then says stopped."""

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sampledata import generate
from tests.conftest import REPO, SAMPLE_END, write_config
from tests.e2e.prefect_server import api_call, environ, free_port, port_open, wait_for, zombie
from tests.lockholder import hold_lock

pytestmark = pytest.mark.e2e

SCRIPT = Path(REPO) / "deployments" / "stack.sh"


def stack_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `deployments/stack.sh command` from another directory (the script finds the repository)."""
    return subprocess.run(
        ["bash", str(SCRIPT), command], env=env, cwd="/", capture_output=True, text=True, timeout=300
    )


def process_group(pgid: int) -> list[int]:
    """Live, not zombie, members of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid and not zombie(int(entry.name)):
                    members.append(int(entry.name))
            except ProcessLookupError:
                pass
    return members


def marked(stack_dir: Path) -> list[int]:
    """Live processes that carry the stack's marker (whatever their group or session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and not zombie(int(entry.name)):
            marker = environ(int(entry.name)).get("SEGMENTS_STACK_PROCESS", "")
            if marker.startswith(f"{stack_dir}/"):
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether pid is a live, not zombie, process."""
    return Path(f"/proc/{pid}").exists() and not zombie(pid)


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment for stack.sh: a free port, a stack folder in tmp_path, SEGMENTS_CONFIG; `down`
    and a KILL of anything marked afterwards, whatever the test did."""
    data = tmp_path / "data"
    generate(data, customers=300, seed=3, end=SAMPLE_END)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "SEGMENTS_PREFECT_PORT": str(free_port()),
        "SEGMENTS_STACK_DIR": str(tmp_path / "stack"),
        "SEGMENTS_CONFIG": str(write_config(data, tmp_path / "work")),
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    yield env
    stack_sh("down", env)
    for pid in marked(tmp_path / "stack"):
        os.kill(pid, signal.SIGKILL)


def test_up_status_down_leaves_no_process_behind(stack_env: dict[str, str], tmp_path: Path) -> None:
    port = int(stack_env["SEGMENTS_PREFECT_PORT"])
    stack_dir = Path(stack_env["SEGMENTS_STACK_DIR"])
    api = f"http://127.0.0.1:{port}/api"

    up = stack_sh("up", stack_env)
    assert up.returncode == 0, f"stack.sh up failed:\n{up.stdout}\n{up.stderr}"
    server, worker = (
        int((stack_dir / f"{name}.pid").read_text().split()[0]) for name in ("server", "worker")
    )
    # each the leader of a process group of its own
    assert os.getpgid(server) == server and os.getpgid(worker) == worker
    status = stack_sh("status", stack_env).stdout
    assert f"server: running (pid {server}, healthy at {api})" in status
    assert f"worker: running (pid {worker})" in status
    assert environ(worker)["SEGMENTS_CONFIG"] == stack_env["SEGMENTS_CONFIG"]

    # A flow run in progress when the stack goes down: it waits for the warehouse lock another process
    # holds. The worker starts flow runs in sessions of their own, outside its process group.
    warehouse = Path(stack_env["SEGMENTS_CONFIG"]).parent / "warehouse.duckdb"
    holder = hold_lock(warehouse, 600)
    try:
        deployment = api_call("GET", f"{api}/deployments/name/daily-refresh/daily-refresh").json()["id"]
        run = api_call(
            "POST",
            f"{api}/deployments/{deployment}/create_flow_run",
            {"parameters": {"as_of": str(SAMPLE_END)}, "state": {"type": "SCHEDULED"}},
        ).json()["id"]
        flow_run: list[int] = []

        def flow_run_started() -> bool:
            flow_run[:] = [
                pid for pid in marked(stack_dir) if environ(pid).get("PREFECT__FLOW_RUN_ID") == run
            ]
            return bool(flow_run)

        wait_for(
            flow_run_started, 120, f"the worker to start flow run {run} (log: {stack_dir / 'worker.log'})"
        )
        everything = {*process_group(server), *process_group(worker), *flow_run}
        assert {server, worker} < everything

        down = stack_sh("down", stack_env)
    finally:
        holder.kill()
        holder.wait()

    assert down.returncode == 0, f"stack.sh down failed:\n{down.stdout}\n{down.stderr}"
    assert down.stdout.splitlines()[-2:] == ["stopped worker", "stopped server"]
    assert "KILL" not in down.stdout  # every process stopped on TERM (the worker by its SIGINT to itself)
    assert [pid for pid in everything if alive(pid)] == []
    assert process_group(server) == [] and process_group(worker) == [] and marked(stack_dir) == []
    assert not port_open(port)
    assert stack_sh("status", stack_env).stdout == "server: stopped\nworker: stopped\n"


def test_status_reports_a_process_left_behind_until_down_stops_it(stack_env: dict[str, str]) -> None:
    stack_dir = Path(stack_env["SEGMENTS_STACK_DIR"])
    # what a flow run looks like once its worker died: no worker process, the run still alive
    orphan = subprocess.Popen(
        ["sleep", "600"],
        env={**stack_env, "SEGMENTS_STACK_PROCESS": f"{stack_dir}/worker"},
        start_new_session=True,
    )
    try:
        status = stack_sh("status", stack_env).stdout.splitlines()
        assert status[0] == "server: stopped"
        assert status[1].startswith("worker: not running, but processes it started are still alive")
        assert status[2].split()[:2] == [str(orphan.pid), "sleep"]

        down = stack_sh("down", stack_env).stdout
        assert down.splitlines() == ["stopped worker", "server: not running"]
        assert orphan.wait(timeout=5) == -signal.SIGTERM
        assert stack_sh("status", stack_env).stdout == "server: stopped\nworker: stopped\n"
    finally:
        orphan.kill()
