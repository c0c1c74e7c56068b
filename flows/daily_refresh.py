"""The daily refresh: extract -> dedupe -> features -> predict -> segment -> act -> publish, for one as_of day.

Point in time: every stage after extract uses only records timestamped before the end of
as_of (in the configured time zone), so a backfill reproduces what a run on that day would
have produced. Idempotent: a second run of the same as_of replaces that day's outputs.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.runtime import flow_run
from prefect.utilities.timeout import timeout

from flows.hooks import notify_failure
from flows.runs import config_path, default_as_of, is_partial, partial_day, refresh_run_name
from tasks.act import act
from tasks.dedupe import dedupe
from tasks.erase.compact import CompactError, finish_pending
from tasks.extract import extract
from tasks.features import features
from tasks.predict import predict
from tasks.publish import publish
from tasks.publish.exports import orphaned_exports
from tasks.publish.late_rows import late_rows, late_rows_said
from tasks.publish.summary import refresh_summary
from tasks.publish.tables import partial_days
from tasks.segment import segment
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.errors import DataError, WaitedTooLong
from tasks.shared.lake import maintain
from tasks.shared.lock import warehouse_lock
from tasks.shared.warehouse import Warehouse


def compute(
    pipeline: PipelineConfig,
    as_of: date,
    run_id: str,
    loads: list[dict],
    partial: bool,
    progress: uuid.UUID,
    refit: bool = False,
    rebuild: bool = False,
) -> dict:
    """Dedupe, features, predict, segment, act and publish for one day, on what extract has loaded.

    refit: fit every model again today (the matcher, predictions, clusters, lookalikes and
    recommendations) instead of when its schedule says. rebuild: compute what is kept from day to day
    (the matcher's state, the golden record, the activity roll-up) from scratch, as after a full refresh
    of sources; the results are those of an incremental run.
    """
    identities = dedupe(pipeline, as_of, run_id, refit=refit, rebuild=rebuild)
    update_progress_artifact(progress, progress=40.0)
    counts = features(pipeline, as_of, rebuild=rebuild)
    update_progress_artifact(progress, progress=50.0)
    predictions = predict(pipeline, as_of, run_id, refit=refit)
    update_progress_artifact(progress, progress=65.0)
    segments = segment(pipeline, as_of, run_id, refit=refit)
    update_progress_artifact(progress, progress=75.0)
    audiences = act(pipeline, as_of, run_id, refit=refit)
    update_progress_artifact(progress, progress=85.0)
    stages = {
        "extract": loads,
        "dedupe": identities,
        "features": counts,
        "predict": predictions,
        "segments": segments,
        "act": audiences,
    }
    summary = refresh_summary(pipeline, as_of, run_id, stages, partial)
    summary["publish"] = publish(pipeline, as_of, run_id, summary)
    update_progress_artifact(progress, progress=100.0)
    return summary


def recompute_partial_days(
    pipeline: PipelineConfig, as_of: date, run_id: str, logger, partial: list[date]
) -> list[str]:
    """Publish again, oldest first, the days before as_of that were published partial (partial: partial_days) and
    have ended since; each under a run id of its own. A day whose data fails stays partial for the next run: it
    does not stop as_of. Returns the days recomputed."""
    recomputed = []
    for day in ended_partial_days(pipeline, partial, as_of, datetime.now(UTC)):
        logger.info("recomputing %s: it was published partial and has ended since", day)
        progress = create_progress_artifact(progress=20.0, description=f"recompute {day}: stages done of 7")
        try:
            compute(pipeline, day, str(uuid.uuid5(uuid.UUID(run_id), day.isoformat())), [], False, progress)
        except DataError as error:
            logger.warning("%s stays partial, it could not be recomputed: %s", day, error)
        else:
            recomputed.append(day.isoformat())
    return recomputed


def ended_partial_days(
    pipeline: PipelineConfig, partial: list[date], before: date, now: datetime
) -> list[date]:
    """The days of partial (published partial) before `before` that have ended since: a run recomputes them."""
    return [day for day in partial if day < before and not is_partial(pipeline, day, now)]


def current_run_id() -> str:
    """The Prefect flow run id, or a fresh id outside a run."""
    return str(flow_run.id or uuid.uuid4())


@contextmanager
def time_limit(seconds: int, what: str) -> Iterator[None]:
    """The run's time limit (orchestration.timeout_seconds), said as such when it is reached: Prefect's own
    TimeoutError names no setting (`Scope timed out after 25 second(s).`). A wait that reached the limit first
    (for the lock, for a reader of the warehouse file) raises its own error, naming who held it."""
    try:
        with timeout(seconds=seconds):
            yield
    except WaitedTooLong:
        raise
    except TimeoutError:
        raise WaitedTooLong(
            f"{what} stopped at its time limit of {seconds:,} s (orchestration.timeout_seconds; waiting for the "
            "warehouse lock and for readers of the warehouse file counts): its log says what it was doing or waiting "
            "for; raise the limit or end what held the warehouse"
        ) from None


@flow(
    name="daily-refresh",
    flow_run_name=refresh_run_name,
    on_failure=[notify_failure],
    on_crashed=[notify_failure],
)
def daily_refresh(
    as_of: date | None = None,
    config: str | None = None,
    full_refresh: list[str] | None = None,
    refit: bool = False,
) -> dict:
    """Refresh the customer database for one day and publish its segments.

    Args:
        as_of: Day to compute segments for (YYYY-MM-DD). Empty: the last complete day before the run's
            scheduled time, in the config's time zone. Only data timestamped up to the end of this day
            is used; a day that has not ended yet is published as partial.
        config: Path of the pipeline config YAML, relative to the run's working directory. Empty: the
            environment variable SEGMENTS_CONFIG, else the Prefect Variable segments_config, else
            demo-data/config.yaml.
        full_refresh: Sources to reload from scratch instead of loading only new data ("all" for every
            source). Empty: incremental.
        refit: Fit every model again today (the matcher's parameters, churn and value models, clusters,
            lookalikes, recommendations). Off: each model is refitted on its schedule (the config's
            refit_every_days) or when the data drifted, and scores the days in between.
    """
    logger = get_run_logger()
    os.umask(0o077)  # everything this run creates (warehouse, WAL, exports, temp files) is the owner's only
    config = config_path(config)
    pipeline = load_config(config)
    as_of = as_of or default_as_of(pipeline)
    partial = partial_day(pipeline, as_of, datetime.now(UTC))
    run_id = current_run_id()
    logger.info(
        "daily refresh as of %s%s (run %s, config %s)",
        as_of,
        " (partial: the day has not ended)" if partial else "",
        run_id,
        Path(config).resolve(),
    )

    # One writer at a time (see tasks/shared/lock.py); the time limit includes waiting for the lock.
    with (
        time_limit(pipeline.orchestration.timeout_seconds, f"daily refresh {as_of}"),
        warehouse_lock(
            pipeline.warehouse_path,
            f"daily-refresh {as_of} run {run_id}",
            logger,
            catalog=pipeline.lake_catalog(),
        ),
    ):
        # an erasure's compaction that did not happen: its values leave the file first (a compaction that fails, a
        # full disk, is said and tried again by the next run; the refresh goes on)
        try:
            finish_pending(pipeline, logger)
        except CompactError as error:
            logger.error("%s", error)
        progress = create_progress_artifact(
            progress=0.0, description=f"daily refresh {as_of}: stages done of 7"
        )
        if pipeline.lake is None and (
            orphaned := orphaned_exports(pipeline.exports_path, pipeline.warehouse_path)
        ):
            logger.warning("%s", orphaned)
        if pipeline.lake is not None:  # with the lock held (see maintain)
            with Warehouse.open(pipeline) as wh:
                removed = maintain(wh, pipeline.lake.snapshot_days)
            logger.info("lake kept to %d days of snapshots: removed %s", pipeline.lake.snapshot_days, removed)
        started = datetime.now(UTC)
        loads = extract(pipeline, run_id, full_refresh)  # once, for every day this run publishes
        with Warehouse.open(pipeline, read_only=True) as wh:
            # the days published partial: late rows leave them out, the ended ones are published again
            published_partial = partial_days(wh)
            if late := late_rows_said(late_rows(wh, run_id, as_of, started, published_partial)):
                logger.warning("%s", late)
        update_progress_artifact(progress, progress=20.0)
        # before as_of, whose membership changes compare with the day before it
        recomputed = recompute_partial_days(pipeline, as_of, run_id, logger, published_partial)
        summary = compute(pipeline, as_of, run_id, loads, partial, progress, refit, bool(full_refresh))
    summary["recomputed_partial_days"] = recomputed
    return summary
