"""Backfill: the daily refresh for every day of a range, oldest first, each day its own subflow run.

Prefect has no backfill of its own; this flow is it. Days already published are skipped unless
`overwrite` (a day published partial is computed again). When the range computes a day before days
already published, those later days are recomputed after it, in order: their membership changes,
stability and cluster ids are relative to the day before them. A day published before and computed
again is compared with its first publish: the log and the table artifact say whose memberships moved
(tasks/publish/republish.py). Progress is kept in the warehouse (`published.backfill_progress`), so a
backfill that failed half way, started again with the same parameters, resumes after the last
completed day.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.runtime import flow_run

from flows.daily_refresh import daily_refresh
from flows.hooks import notify_failure
from flows.runs import config_path
from tasks.act.store import forget_models_from
from tasks.dedupe.incremental import forget_matcher
from tasks.dedupe.model import stored_model_info
from tasks.predict.model_store import forget_fits_from
from tasks.publish.exports import orphaned_exports
from tasks.publish.republish import keep_published, moved_memberships, moved_text
from tasks.publish.tables import partial_days
from tasks.segment.cluster_tables import forget_clusters_from
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.errors import DataError
from tasks.shared.lock import warehouse_lock
from tasks.shared.text import counted
from tasks.shared.warehouse import Warehouse


def backfill_days(start: date, end: date, today: date, max_days: int) -> list[date]:
    """Every date from start to end inclusive, oldest first; a DataError says what is wrong with the range."""
    if start > end:
        raise DataError(f"backfill start {start} is after end {end}: give start <= end")
    if end > today:
        raise DataError(
            f"backfill end {end} is in the future (today is {today}): the last day must be {today} or earlier"
        )
    days = (end - start).days + 1
    if days > max_days:
        raise DataError(
            f"backfill of {days} days ({start}..{end}) is longer than orchestration.backfill_max_days = {max_days}: "
            "split it into several runs or raise the limit in the config"
        )
    return [start + timedelta(days=n) for n in range(days)]


def backfill_id(start: date, end: date, overwrite: bool, config: PipelineConfig) -> str:
    """Identifies a backfill request, so that a restart of the same request resumes it."""
    key = f"{start}|{end}|{overwrite}|{config.warehouse_path}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@contextmanager
def progress_store(config: PipelineConfig, request: str, logger) -> Iterator[Warehouse]:
    """The warehouse, under the writer lock, with the backfill progress table in place."""
    holder = f"backfill {request}: progress"
    limit = config.orchestration.timeout_seconds
    with (
        warehouse_lock(
            config.warehouse_path, holder, logger, timeout_seconds=limit, catalog=config.lake_catalog()
        ),
        Warehouse.open(config) as wh,
    ):
        wh.ensure("ops/backfill_progress")
        yield wh


@dataclass(frozen=True)
class History:
    """What the warehouse already holds for a backfill request."""

    progress: set[date]  # days this request completed in an earlier attempt
    published: set[date]  # every published day
    partial: set[date]  # published days whose latest publish was from incomplete data

    def done(self, overwrite: bool) -> set[date]:
        """Days not to compute again: the request's own, and unless overwrite the complete published days."""
        return self.progress | (set() if overwrite else self.published - self.partial)


def history(config: PipelineConfig, request: str, logger) -> History:
    """The request's progress and the published days."""
    if not config.warehouse_path.exists():
        return History(set(), set(), set())
    with progress_store(config, request, logger) as wh:
        progress = {
            as_of
            for (as_of,) in wh.rows(
                "select as_of from published.backfill_progress where backfill_id = ?", [request]
            )
        }
        if not wh.table_exists("published.runs"):
            return History(progress, set(), set())
        published = {as_of for (as_of,) in wh.rows("select distinct as_of from published.runs")}
        return History(progress, published, set(partial_days(wh)))


def plan(days: list[date], known: History, overwrite: bool) -> list[tuple[date, str]]:
    """Each day to visit, oldest first, with what to do: compute the range's days not done yet; once a
    day has been computed (now or by an earlier attempt of the request), every published day after it
    follows, in the range and after it (their membership changes, stability and cluster ids are
    relative to the day before, so they are recomputed in order)."""
    done, steps, changed = known.done(overwrite), [], False
    for day in days:
        if day in known.progress:
            steps.append((day, "skip"))
            changed = True
        elif day in done:
            steps.append((day, "follow" if changed else "skip"))
        else:
            steps.append((day, "compute"))
            changed = True
    later = sorted(day for day in known.published if day > days[-1]) if changed else []
    return steps + [(day, "skip" if day in known.progress else "follow") for day in later]


def forget_later_models(wh: Warehouse, day: date) -> list[str]:
    """Forget every model fitted on day or later, and the cluster ids given from day on; return what was
    forgotten, one line each.

    Called before a backfill computes its first day: from there on it computes every day, published ones
    included, in order, so each day must be scored with what a run in order would have fitted by then.
    Kept, a model fitted by an earlier run of a later day would serve that day again, and cluster ids given
    on it would count as used (a day published before the days before it was backfilled got new models
    and ids, and every customer would seem to change cluster on it).
    """
    done = []
    matcher = stored_model_info(wh)
    if matcher is not None and matcher.fitted_as_of >= day:  # the first day fits and keeps one, as in order
        forget_matcher(wh)
        done.append(f"the matcher model fitted on {matcher.fitted_as_of} and its state")
    done += [f"{counted(n, 'stored fit')} of {table}" for table, n in forget_fits_from(wh, day).items()]
    done += [f"the stored act model {name}" for name in forget_models_from(wh, day)]
    if days := forget_clusters_from(wh, day):
        done.append(f"the cluster ids and centroids of {counted(days, 'day')}")
    return done


def published_after(config: PipelineConfig, request: str, day: date, logger) -> list[date]:
    """The published days after day, oldest first."""
    return sorted(as_of for as_of in history(config, request, logger).published if as_of > day)


def record_progress(
    config: PipelineConfig, request: str, as_of: date | None, logger, republished: bool = False
) -> str | None:
    """Mark one day of a request done; with as_of None, forget the request (it finished). A day published
    before (republished) is compared with what was kept of it: a warning says whose memberships moved, and
    the text is returned for the backfill's table."""
    with progress_store(config, request, logger) as wh, wh.transaction():  # a day done and its report at once
        if as_of is None:
            wh.execute("delete from published.backfill_progress where backfill_id = ?", [request])
            return None
        wh.execute(
            "insert into published.backfill_progress values (?, ?, ?, now())",
            [request, as_of, str(flow_run.id or "")],
        )
        moved = moved_memberships(wh, as_of) if republished else None
    if moved is None:
        return None
    text = moved_text(moved)
    if moved["customers"]:
        logger.warning(
            "backfill: %s was published before; computed again, the memberships of %s moved: its audiences, "
            "outreach lists and export files are replaced",
            as_of,
            text,
        )
    else:
        logger.info("backfill: %s was published before; computed again, no membership moved", as_of)
    return text


@flow(name="backfill", on_failure=[notify_failure], on_crashed=[notify_failure])
def backfill(start: date, end: date, overwrite: bool = False, config: str | None = None) -> list[str]:
    """Run the daily refresh for each day from start to end, oldest first.

    Args:
        start: First as_of day (YYYY-MM-DD).
        end: Last as_of day (YYYY-MM-DD), inclusive; today at the latest.
        overwrite: Recompute days that are already published (otherwise they are skipped). Published
            days after the range are recomputed whenever a day of the range is.
        config: Path of the pipeline config YAML, relative to the run's working directory. Empty: the
            environment variable SEGMENTS_CONFIG, else the Prefect Variable segments_config, else
            demo-data/config.yaml.
    """
    logger = get_run_logger()
    config = config_path(config)
    pipeline = load_config(config)
    days = backfill_days(start, end, pipeline.today(), pipeline.orchestration.backfill_max_days)
    request = backfill_id(start, end, overwrite, pipeline)
    known = history(pipeline, request, logger)
    steps = plan(days, known, overwrite)
    following = sum(step == "follow" for _, step in steps)
    limit = pipeline.orchestration.backfill_max_days
    if len(steps) > limit:
        first_follow = next(day for day, step in steps if step == "follow")
        raise DataError(
            f"backfill {start}..{end} comes before {following} published days, which would be recomputed "
            f"after it ({first_follow}..{steps[-1][0]}): {len(steps)} days in all, more than "
            f"orchestration.backfill_max_days = {limit}; raise the limit in the config to go ahead"
        )
    logger.info(
        "backfill %s..%s: %d days, %d already done, %d published days recomputed because a day before them is",
        start,
        end,
        len(days),
        sum(step == "skip" for _, step in steps[: len(days)]),
        following,
    )
    progress = create_progress_artifact(
        progress=0.0, description=f"backfill {start}..{end}: days done / total"
    )
    first = next((day for day, step in steps if step != "skip"), None)
    if pipeline.lake is None and (
        orphaned := orphaned_exports(pipeline.exports_path, pipeline.warehouse_path)
    ):
        logger.warning("%s", orphaned)  # before the progress store makes the file
    if first is not None:
        with progress_store(pipeline, request, logger) as wh, wh.transaction():
            for line in forget_later_models(wh, first):
                logger.info("backfill from %s: forgot %s (fitted again in order)", first, line)
    computed, outcome = [], []
    status = {
        "skip": "skipped (already done)",
        "compute": "computed",
        "follow": "recomputed (follows a backfilled day)",
    }
    index = 0
    while index < len(steps):
        as_of, step = steps[index]
        moved = None
        if step != "skip":
            republished = step == "follow" or as_of in known.published
            if republished:
                with progress_store(pipeline, request, logger) as wh:
                    keep_published(wh, as_of, request)
            daily_refresh.with_options(flow_run_name=f"daily-refresh-{as_of.isoformat()}")(
                as_of=as_of, config=config
            )
            moved = record_progress(pipeline, request, as_of, logger, republished)
            computed.append(as_of.isoformat())
        outcome.append({"as_of": as_of.isoformat(), "status": status[step], "memberships moved": moved or ""})
        index += 1
        if index == len(steps) and first is not None:
            # days a scheduled run published while this one ran (between two of its days) follow too
            steps += [(day, "follow") for day in published_after(pipeline, request, as_of, logger)]
        update_progress_artifact(progress, progress=100.0 * index / len(steps))
        logger.info("backfill progress: %d / %d days", index, len(steps))
    record_progress(pipeline, request, None, logger)
    create_table_artifact(table=outcome, key="backfill-days", description=f"backfill {start}..{end}")
    return computed
