"""The lake stack for real (`deployments/stack.sh up-lake`): two refreshes of different days started at once
go to the pool's two workers, a reader reads throughout, and each day is published once, equal to what a
DuckDB file publishes from the same days in the same order. The lake scores the matcher's candidate pairs of
a fit and computes its customer features and its customer files in two shards (and a day scored with stored
models its predict scores and segments), flow runs of the stage-shard deployment, which the file does not:
the results are identical.

The stack runs as a user runs it: its own PostgreSQL catalog, a Prefect server with its scheduler, the work
pool `segments` with two workers (one flow run each at a time), the shipped deployments (the daily schedule
paused: the test starts its two runs itself); the flow runs are started through the API as the UI starts
them. Both runs take the warehouse's writer lock (the file lock and the catalog's advisory lock), so one waits
while the other writes; the reader, a separate process with a connection kept open, never fails and never
sees a day with fewer rows than its run published.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO, SAMPLE_END, write_config
from tests.daily_changes import write_day
from tests.e2e.prefect_server import (
    FINAL_STATES,
    api_call,
    environ,
    free_port,
    wait_for,
    wait_out_the_daily_run,
)
from tests.e2e.test_incremental_days import differences, snapshot
from tests.e2e.test_stack import marked, stack_sh
from tests.lake.conftest import LAKE_ENV

DAYS = (SAMPLE_END, SAMPLE_END + timedelta(days=1))
WORKERS = ("worker-1", "worker-2")
# a free worker takes a shard within a few seconds (it asks every 2 s); a busy pool costs each sharded stage this
SHARDS, SHARD_START_SECONDS = 2, 12


def pause_the_daily_schedule(api: str) -> None:
    """Pause the shipped daily schedule, which deletes its upcoming runs: one falling due during the test (a
    suite started shortly before 06:00 in Shanghai) would be a third refresh on the lake."""
    deployment = api_call("GET", f"{api}/deployments/name/daily-refresh/daily-refresh").json()
    for schedule in deployment["schedules"]:
        paused = api_call(
            "PATCH", f"{api}/deployments/{deployment['id']}/schedules/{schedule['id']}", {"active": False}
        )
        assert paused.status_code == 204, paused.text
    runs = api_call(
        "POST", f"{api}/flow_runs/filter", {"deployments": {"id": {"any_": [deployment["id"]]}}}
    ).json()
    assert [run["name"] for run in runs if run["auto_scheduled"]] == []


def flow_run_processes(stack_dir: Path) -> dict[str, set[str]]:
    """Live flow-run processes of the stack: flow run id -> the workers whose marker they carry."""
    found: dict[str, set[str]] = {}
    for pid in marked(stack_dir):
        variables = environ(pid)
        if run := variables.get("PREFECT__FLOW_RUN_ID"):
            found.setdefault(run, set()).add(variables["SEGMENTS_STACK_PROCESS"].rsplit("/", 1)[1])
    return found


@pytest.fixture
def lake_stack(tmp_path: Path, sample_copy: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """The lake stack's environment (free ports, its own stack and catalog folders, a lake config over
    sample_copy), brought down and its processes KILLed afterwards whatever the test did."""
    pg_dir = Path(tempfile.mkdtemp(prefix="segments-lake-stack-pg-"))  # reachable by the postgres user
    pg_port = free_port()
    lake = {
        "ducklake": {
            "catalog": {"dsn_env": LAKE_ENV},
            "data_path": str(tmp_path / "work" / "lake"),
            "shards": SHARDS,
            "shard_start_seconds": SHARD_START_SECONDS,
        }
    }
    config = write_config(sample_copy, tmp_path / "work", warehouse=lake)
    # while the stack comes up (a server's 120 s to answer, the catalog, deploys) until the test pauses the schedule
    wait_out_the_daily_run(minutes=5)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "SEGMENTS_PREFECT_PORT": str(free_port()),
        "SEGMENTS_STACK_DIR": str(tmp_path / "stack"),
        "SEGMENTS_LAKE_PG_PORT": str(pg_port),
        "SEGMENTS_LAKE_PG_DIR": str(pg_dir),
        "SEGMENTS_CONFIG": str(config),
        LAKE_ENV: f"postgresql://postgres@127.0.0.1:{pg_port}/lake",  # the URI stack.sh gives the workers
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    yield env, config
    stack_sh("down-lake", env)
    for pid in marked(tmp_path / "stack"):
        os.kill(pid, signal.SIGKILL)
    subprocess.run(["rm", "-rf", str(pg_dir)], check=False)


def test_two_days_from_two_workers_at_once_with_a_reader_equal_a_file(
    prefect_server: None,
    lake_stack: tuple[dict[str, str], Path],
    sample_copy: Path,
    make_config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env, config = lake_stack
    stack_dir = Path(env["SEGMENTS_STACK_DIR"])
    api = f"http://127.0.0.1:{env['SEGMENTS_PREFECT_PORT']}/api"
    assert write_day(sample_copy, DAYS[1], 1) == {"game": 40, "payments": 26, "crm": 4}

    up = stack_sh("up-lake", env)
    assert up.returncode == 0, f"stack.sh up-lake failed:\n{up.stdout}\n{up.stderr}"
    status = stack_sh("status-lake", env).stdout
    assert all(f"{worker}: running" in status for worker in WORKERS), status
    pause_the_daily_schedule(api)
    monkeypatch.setenv(LAKE_ENV, env[LAKE_ENV])
    with Warehouse.open(load_config(config)):
        pass  # the lake exists, empty, before the reader attaches it (a reader cannot create a catalog)

    stop, out = config.parent / "stop", config.parent / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.lake.reader", str(config), str(stop), str(out)], cwd=REPO, env=env
    )
    try:
        time.sleep(2)
        assert reader.poll() is None
        deployment = api_call("GET", f"{api}/deployments/name/daily-refresh/daily-refresh").json()["id"]
        runs = {
            api_call(
                "POST",
                f"{api}/deployments/{deployment}/create_flow_run",
                {"parameters": {"as_of": str(day)}, "state": {"type": "SCHEDULED"}},
            ).json()["id"]: day
            for day in DAYS
        }
        workers: dict[str, set[str]] = {}
        together = False
        states: dict[str, str] = {}

        def both_final() -> bool:
            nonlocal together
            live = flow_run_processes(stack_dir)
            together = together or set(runs) <= set(live)
            for run, names in live.items():
                workers.setdefault(run, set()).update(names)
            for run in runs:
                states[run] = api_call("GET", f"{api}/flow_runs/{run}").json()["state"]["type"]
            return all(state in FINAL_STATES for state in states.values())

        wait_for(both_final, 600, f"flow runs {runs} to finish (logs in {stack_dir})", every=0.5)
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)

    assert states == dict.fromkeys(runs, "COMPLETED"), f"logs in {stack_dir}"
    # at once: both flow runs alive together, one on each worker
    assert together
    assert sorted(tuple(sorted(workers[run])) for run in runs) == [("worker-1",), ("worker-2",)]

    with Warehouse.open(load_config(config), read_only=True) as wh:
        published = wh.rows("select as_of from published.runs order by published_at")
    assert sorted(day for (day,) in published) == list(DAYS)  # every day published once
    order = [day for (day,) in published]

    assert reader.returncode == 0
    seen = json.loads(out.read_text(encoding="utf-8"))
    assert seen["errors"] == []
    assert seen["rounds"] >= 20
    first, second = (str(day) for day in order)
    assert seen["seen"] == [[], [first], sorted([first, second])]  # nothing, one day, both: never half of one

    # The matcher's candidate pairs of a fit, the customer features and the customer files in shards, each a
    # flow run of the stage-shard deployment, and the predict scores and the segments of a day scored with the
    # stored models (the later day after the earlier one; a fit day scores and segments in its own process).
    # The first refresh's: both workers busy (it, and the other refresh waiting for its lock), so none started
    # within SHARD_START_SECONDS and the refresh computed them itself; the second's: a worker was free again.
    shard_runs: list[dict] = []

    def shard_runs_final() -> bool:
        shard_runs[:] = api_call(
            "POST", f"{api}/flow_runs/filter", {"flows": {"name": {"any_": ["stage-shard"]}}, "limit": 50}
        ).json()
        return all(run["state"]["type"] in FINAL_STATES for run in shard_runs)

    wait_for(shard_runs_final, 120, "every stage-shard flow run to end")
    by_stage: dict[tuple[str, str], list[str]] = {}
    for run in shard_runs:
        key = (run["parameters"]["as_of"], run["parameters"]["stage"])
        by_stage.setdefault(key, []).append(run["state"]["type"])
    first = [(str(order[0]), "dedupe"), (str(order[0]), "features"), (str(order[0]), "publish")]
    # after the earlier day: the stored fits, and an incremental matcher (no pair shards); before it: fits
    stored = (
        [(str(order[1]), "predict"), (str(order[1]), "segment")]
        if order[1] > order[0]
        else [(str(order[1]), "dedupe")]
    )
    later = [(str(order[1]), "features"), *stored, (str(order[1]), "publish")]
    assert sorted(by_stage) == sorted([*first, *later])
    for key in first:
        assert sorted(by_stage[key]) == ["CANCELLED"] * SHARDS, key
    for key in later:
        assert len(by_stage[key]) == SHARDS, key
        assert "COMPLETED" in by_stage[key] and set(by_stage[key]) <= {"COMPLETED", "CANCELLED"}, key
    completed = [run["id"] for run in shard_runs if run["state"]["type"] == "COMPLETED"]
    assert all(workers.get(run) for run in completed)  # run by a worker's process

    # the same days, in the order the lock let them through, on a DuckDB file (no shards)
    file_config = make_config(sample_copy)
    for day in order:
        daily_refresh(as_of=day, config=str(file_config))
    for day in DAYS:
        assert differences(snapshot(config, day), snapshot(file_config, day)) == {}, day
