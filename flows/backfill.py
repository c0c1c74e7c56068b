"""Backfill: the daily refresh for every day in a range, oldest first, each day its own subflow run."""

from datetime import date, timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from flows.daily_refresh import DEFAULT_CONFIG, daily_refresh
from tasks.config import load_config
from tasks.errors import DataError
from tasks.warehouse import Warehouse


def days_between(start: date, end: date) -> list[date]:
    """Every date from start to end inclusive, oldest first."""
    if start > end:
        raise DataError(f"backfill start {start} is after end {end}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def published_days(config_path: str) -> set[date]:
    """The as_of dates already in published.customer_segments."""
    config = load_config(config_path)
    if not config.warehouse_path.exists():
        return set()
    with Warehouse.open(config, read_only=True) as wh:
        if not wh.table_exists("published.runs"):
            return set()
        return {day for (day,) in wh.rows("select distinct as_of from published.runs")}


@flow(name="backfill")
def backfill(start: date, end: date, overwrite: bool = False, config: str = DEFAULT_CONFIG) -> list[str]:
    """Run the daily refresh for each day from start to end, oldest first.

    Args:
        start: First as_of day (YYYY-MM-DD).
        end: Last as_of day (YYYY-MM-DD), inclusive.
        overwrite: Recompute days that are already published (otherwise they are skipped).
        config: Path of the pipeline config YAML, relative to the run's working directory.
    """
    logger = get_run_logger()
    days = days_between(start, end)
    done = set() if overwrite else published_days(config)
    progress = create_progress_artifact(progress=0.0, description=f"backfill {start}..{end}")
    completed = []
    for index, day in enumerate(days, start=1):
        if day in done:
            logger.info("%s already published, skipped (overwrite=False)", day)
        else:
            daily_refresh.with_options(flow_run_name=f"daily-refresh-{day.isoformat()}")(
                as_of=day, config=config
            )
            completed.append(day.isoformat())
        update_progress_artifact(progress, progress=100.0 * index / len(days))
    return completed
