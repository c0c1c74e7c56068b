"""Deployments on a real Prefect server: deploy deployments/prefect.yaml as shipped, let the server's
scheduler create the daily refresh's upcoming runs and see them in the UI, run through a worker, launch
runs through the REST API exactly as the UI's run form does, and render that form in Chromium."""

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sampledata import generate
from tests.conftest import SAMPLE_END, write_config
from tests.e2e.prefect_server import (
    Stack,
    chromium,
    create_run,
    final_state,
    prefect_stack,
    published_runs,
    rendered_text,
    utc,
    wait_for_scheduled,
    wait_out_the_daily_run,
)

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def stack_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small sample data for the runs the worker executes."""
    data = tmp_path_factory.mktemp("stack-data")
    generate(data, customers=600, seed=11, end=SAMPLE_END)
    return data


@pytest.fixture(scope="module")
def stack_config(tmp_path_factory: pytest.TempPathFactory, stack_data: Path) -> Path:
    """The config the tests' runs name."""
    return write_config(stack_data, tmp_path_factory.mktemp("stack-work"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, stack_data: Path) -> Iterator[Stack]:
    """Server on a free loopback port, process work pool, `prefect deploy --all`, one worker. The tests' runs
    name stack_config; the worker's SEGMENTS_CONFIG, which a run of the shipped schedule uses (it has no
    parameters), is another config over the same data with a warehouse of its own: a scheduled run that falls
    due during the tests (a suite started shortly before 06:00 in Shanghai) publishes there, never a day
    among the days these tests count."""
    scheduled_config = write_config(stack_data, tmp_path_factory.mktemp("scheduled-work"))
    with prefect_stack(
        tmp_path_factory.mktemp("prefect-stack"), worker_env={"SEGMENTS_CONFIG": str(scheduled_config)}
    ) as running:
        yield running


def upcoming_daily_runs(stack: Stack, minutes: float) -> tuple[datetime, list[dict]]:
    """The moment they were read and the next three runs of the shipped daily schedule, once none falls due in
    the minutes a test takes to look at them (one that fell due before is running, or has run, elsewhere)."""
    wait_out_the_daily_run(minutes)
    now = datetime.now(UTC)
    return now, wait_for_scheduled(stack, "daily-refresh", 3, after=now)[:3]


def test_both_deployments_are_on_the_server_with_the_schedule(stack: Stack) -> None:
    assert set(stack.deployments) == {"daily-refresh", "backfill", "erase-customer", "stage-shard"}
    shard = stack.get(f"/deployments/{stack.deployments['stage-shard']}")
    assert shard["schedules"] == []  # started by a refresh's features stage, never on a schedule
    assert shard["parameter_openapi_schema"]["required"] == [
        "stage",
        "as_of",
        "shard",
        "shards",
        "config",
        "work_table",
    ]
    daily = stack.get(f"/deployments/{stack.deployments['daily-refresh']}")
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in daily["schedules"]] == [
        ("0 6 * * *", "Asia/Shanghai", True)
    ]
    backfill = stack.get(f"/deployments/{stack.deployments['backfill']}")
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
    children = stack.post(
        "/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"operator": "and_", "any_": [run_id]}}}
    )
    names = sorted(r["name"] for r in children)
    assert names == ["daily-refresh-2026-11-18", "daily-refresh-2026-11-19", "daily-refresh-2026-11-20"]


def test_a_scheduled_refresh_and_a_backfill_at_the_same_time_both_complete(
    stack: Stack, stack_config: Path
) -> None:
    before = len(published_runs(stack_config))
    # the backfill's days come after every published day, so no published day follows them
    daily = create_run(stack, "daily-refresh", {"as_of": "2026-11-21", "config": str(stack_config)})
    backfill = create_run(
        stack, "backfill", {"start": "2026-11-22", "end": "2026-11-23", "config": str(stack_config)}
    )
    assert (final_state(stack, daily), final_state(stack, backfill)) == ("COMPLETED", "COMPLETED")
    new = [as_of for as_of, _ in published_runs(stack_config)][before:]
    assert sorted(new) == [date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23)]
    assert new.index(date(2026, 11, 22)) < new.index(date(2026, 11, 23))


def next_six_in_the_morning_in_shanghai(moment: datetime) -> datetime:
    """The first 06:00 Asia/Shanghai after moment: when `0 6 * * *` in that time zone is next due."""
    local = moment.astimezone(SHANGHAI)
    due = datetime.combine(local.date(), time(6), SHANGHAI)
    return due if due > local else due + timedelta(days=1)


def test_the_scheduler_creates_the_upcoming_daily_runs(stack: Stack) -> None:
    now, runs = upcoming_daily_runs(stack, minutes=2)  # the scheduler may take 90 s on a fresh stack
    first = next_six_in_the_morning_in_shanghai(now)
    assert [utc(r["expected_start_time"]) for r in runs] == [first + timedelta(days=n) for n in range(3)]
    assert [(r["state"]["type"], r["state"]["name"], r["parameters"]) for r in runs] == [
        ("SCHEDULED", "Scheduled", {})
    ] * 3
    deployment = stack.deployments["daily-refresh"]
    assert all(r["idempotency_key"].startswith(f"scheduled {deployment} ") for r in runs)


@pytest.mark.parametrize("ui", ["", "/v2"], ids=["ui-v1", "ui-v2"])
def test_the_deployment_page_lists_the_upcoming_runs(stack: Stack, tmp_path: Path, ui: str) -> None:
    _, runs = upcoming_daily_runs(stack, minutes=4)  # and the page rendered, with retries
    url = f"{stack.ui}{ui}/deployments/deployment/{stack.deployments['daily-refresh']}?tab=Upcoming"
    # shown in the browser's time zone: 06:00 for an operator in Shanghai
    expected = [
        *(r["name"] for r in runs),
        *(utc(r["expected_start_time"]).astimezone(SHANGHAI).strftime("%Y/%m/%d %I:%M:%S %p") for r in runs),
    ]
    text = rendered_text(url, tmp_path, expected, tz="Asia/Shanghai")
    for item in expected:
        assert item in text, f"the Upcoming tab ({url}) does not show {item!r}:\n{text[:2000]}"
    assert text.count("auto-scheduled") >= 3
    screenshot = tmp_path / f"daily-refresh-upcoming{ui.replace('/', '-')}.png"
    chromium(url, tmp_path / "screenshot", f"--screenshot={screenshot}", tz="Asia/Shanghai")
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("SEGMENTS_SCREENSHOT_DIR"):
        shutil.copy(screenshot, Path(os.environ["SEGMENTS_SCREENSHOT_DIR"]) / screenshot.name)


def test_the_run_form_renders_parameters_and_descriptions(stack: Stack, tmp_path: Path) -> None:
    url = f"{stack.ui}/deployments/deployment/{stack.deployments['backfill']}/run"
    dom = chromium(url, tmp_path / "chromium", "--dump-dom").stdout
    for text in (
        "First as_of day (YYYY-MM-DD).",
        "Last as_of day (YYYY-MM-DD), inclusive; today at the latest.",
        "Recompute days that are already published (otherwise they are skipped).",
        "Path of the pipeline config YAML, relative to the run's working directory.",
    ):
        assert text in dom, f"the run form does not show {text!r}"
    screenshot = tmp_path / "backfill-run-form.png"
    chromium(url, tmp_path / "chromium", f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("SEGMENTS_SCREENSHOT_DIR"):  # to refresh the README's picture
        shutil.copy(screenshot, Path(os.environ["SEGMENTS_SCREENSHOT_DIR"]) / screenshot.name)
