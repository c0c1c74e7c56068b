"""The server's own scheduler, not the API: deploy the daily refresh with a cron due every minute (a copy
of deployments/prefect.yaml), and the scheduler service creates its upcoming runs; the worker runs the
first, which refreshes the last complete day of the config it gets from SEGMENTS_CONFIG. No run is
created through the API here."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from sampledata import generate
from tests.conftest import write_config
from tests.e2e.prefect_server import (
    SHIPPED,
    Stack,
    auto_scheduled,
    final_state,
    prefect_stack,
    published_runs,
    utc,
    wait_for,
    wait_for_scheduled,
)

pytestmark = pytest.mark.e2e

TIMEZONE = "Asia/Shanghai"
EVERY_MINUTE = {"cron": "* * * * *", "timezone": TIMEZONE, "active": True}
SCHEDULER = {
    # the main loop every 5 s instead of 60 s, and three runs ahead (a minute cron would otherwise get an
    # hour's worth, the default minimum scheduled time)
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
    "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "3",
}


@pytest.fixture(scope="module")
def sample_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small sample data up to today (in the config's time zone) and its config."""
    data = tmp_path_factory.mktemp("schedule-data")
    generate(data, customers=400, seed=5, end=datetime.now(ZoneInfo(TIMEZONE)).date())
    return write_config(data, tmp_path_factory.mktemp("schedule-work"))


@pytest.fixture(scope="module")
def minute_stack(tmp_path_factory: pytest.TempPathFactory, sample_config: Path) -> Iterator[Stack]:
    """A server with its scheduler, the daily refresh due every minute, a worker with SEGMENTS_CONFIG."""
    home = tmp_path_factory.mktemp("schedule-stack")
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    daily = next(d for d in shipped["deployments"] if d["name"] == "daily-refresh")
    prefect_file = home / "prefect.yaml"
    prefect_file.write_text(
        yaml.safe_dump({**shipped, "deployments": [{**daily, "schedules": [EVERY_MINUTE]}]}), encoding="utf-8"
    )
    with prefect_stack(
        home, prefect_file, server_env=SCHEDULER, worker_env={"SEGMENTS_CONFIG": str(sample_config)}
    ) as stack:
        yield stack


def test_the_scheduler_creates_the_upcoming_runs_of_the_cron(minute_stack: Stack) -> None:
    wait_for_scheduled(minute_stack, "daily-refresh", 3)
    seen = datetime.now(UTC)
    runs = auto_scheduled(minute_stack, "daily-refresh")[:3]
    deployment = minute_stack.deployments["daily-refresh"]
    assert all(r["idempotency_key"].startswith(f"scheduled {deployment} ") for r in runs)
    assert all(r["parameters"] == {} for r in runs)
    times = [utc(r["expected_start_time"]) for r in runs]
    # not yet due (nor prefetched by the worker, 10 s ahead): waiting in state Scheduled; the last is
    # at least a minute ahead
    ahead = [r["state"]["name"] for r, t in zip(runs, times, strict=True) if t > seen + timedelta(seconds=20)]
    assert ahead and ahead == ["Scheduled"] * len(ahead)
    # whole minutes, one after another, the first the next minute after the scheduler made it; the scheduler
    # reads its clock before it inserts, so a run made at the turn of a minute may be stamped a moment after
    # that minute (seen in CI: due 08:19:00, created 08:19:00.11)
    assert all(t.second == 0 and t.microsecond == 0 for t in times)
    assert [t - times[0] for t in times] == [timedelta(0), timedelta(minutes=1), timedelta(minutes=2)]
    assert -timedelta(seconds=5) < times[0] - utc(runs[0]["created"]) <= timedelta(minutes=1)


def test_a_run_from_the_scheduler_refreshes_the_last_complete_day(
    minute_stack: Stack, sample_config: Path
) -> None:
    started: list[dict] = []

    def one_started() -> bool:
        started[:] = [
            r for r in auto_scheduled(minute_stack, "daily-refresh") if r["state"]["type"] != "SCHEDULED"
        ]
        return bool(started)

    wait_for_scheduled(minute_stack, "daily-refresh", 1)
    wait_for(
        one_started, 90, f"the worker to start a scheduled run (log: {minute_stack.logs / 'worker.log'})"
    )
    run_id = started[0]["id"]
    assert final_state(minute_stack, run_id, 240) == "COMPLETED"

    run = minute_stack.get(f"/flow_runs/{run_id}")
    assert run["auto_scheduled"] is True and run["parameters"] == {}
    scheduled = utc(run["expected_start_time"])
    as_of = scheduled.astimezone(ZoneInfo(TIMEZONE)).date() - timedelta(days=1)
    assert run["name"] == f"daily-refresh-{as_of}"
    # every publish so far (later minutes may have run too) is of that day
    assert {day for day, _ in published_runs(sample_config)} == {as_of}
