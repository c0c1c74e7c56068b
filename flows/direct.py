"""One day's stages in this process, without Prefect: the stage calls daily_refresh's tasks make, with the same
arguments (not the tasks' artifacts, logs or shard plans).

For what has to run a day without a Prefect server: the benchmark's direct mode (the stages' cost apart from
Prefect's, bench/worker.py), evaluations that replay days (evaluation/campaign.py) and tests. No artifacts, no
lock, no retries: those are the flow's.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from flows.runs import partial_day
from tasks.act import act_all
from tasks.dedupe import dedupe_all, require_customers
from tasks.extract import extract_all
from tasks.features import features_day
from tasks.predict import predict_day
from tasks.publish import publish_day
from tasks.publish.summary import refresh_summary
from tasks.segment import segment_day
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

# How a stage runs: given its name and its work on an open warehouse, return the work's result.
Stage = Callable[[str, Callable[[Warehouse], Any]], Any]


def own_warehouse(config: PipelineConfig) -> Stage:
    """Each stage on a warehouse it opens and closes, as each of the flow's tasks does."""

    def stage(name: str, work: Callable[[Warehouse], Any]) -> Any:
        with Warehouse.open(config) as wh:
            return work(wh)

    return stage


def run_stages(
    config: PipelineConfig,
    as_of: date,
    run_id: str,
    stage: Stage | None = None,
    logger: logging.Logger | None = None,
) -> dict[str, Any]:
    """Extract what is new, then dedupe to act for as_of; the run summary publish is given (partial: as_of had
    not ended when the run began, as the flow marks it)."""
    partial = partial_day(config, as_of, datetime.now(UTC))
    stage = stage or own_warehouse(config)
    logger = logger or logging.getLogger(__name__)
    loads = stage("extract", lambda wh: extract_all(wh, config, run_id, None, logger))
    identities = stage(
        "dedupe",
        lambda wh: require_customers(wh, dedupe_all(wh, config, as_of, run_id, logger=logger), as_of),
    )
    counts = stage("features", lambda wh: features_day(wh, config, as_of, logger=logger))
    predictions = stage("predict", lambda wh: predict_day(wh, config, as_of, run_id, logger=logger))
    segments = stage("segment", lambda wh: segment_day(wh, config, as_of, run_id, logger=logger))
    audiences = stage("act", lambda wh: act_all(wh, config, as_of))
    stages = {
        "extract": [asdict(load) for load in loads],
        "dedupe": asdict(identities),
        "features": counts,
        "predict": asdict(predictions),
        "segments": asdict(segments),
        "act": audiences,
    }
    return refresh_summary(config, as_of, run_id, stages, partial)


def run_day(
    config: PipelineConfig,
    as_of: date,
    run_id: str | None = None,
    stage: Stage | None = None,
    logger: logging.Logger | None = None,
) -> dict[str, Any]:
    """Every stage of as_of, published (tables and export files); the run summary."""
    run_id = run_id or str(uuid.uuid4())
    stage = stage or own_warehouse(config)
    logger = logger or logging.getLogger(__name__)
    summary = run_stages(config, as_of, run_id, stage, logger)
    stage("publish", lambda wh: publish_day(wh, config, as_of, run_id, summary, logger))
    return summary
