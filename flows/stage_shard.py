"""One shard of a stage's heavy work (candidate pairs, or customers), in a process of its own: the flow the
`stage-shard` deployment runs. The run that needs the shard starts it (tasks/shared/shards.py) and holds the
warehouse's writer lock meanwhile, so this flow takes no lock; it runs only against a lake, whose tables take
inserts from several writers at once."""

import os
from datetime import date

from prefect import flow, get_run_logger

from flows.hooks import notify_failure
from tasks.dedupe.shards import pairs_shard
from tasks.features import customer_features_shard
from tasks.predict.shards import scores_shard
from tasks.publish.shards import export_shard
from tasks.segment.shards import segments_shard
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse

# stage -> the function that computes shard k of n for the run's work table (adds its rows to it, or for
# publish writes its rows as part files); how many rows
SHARDED_STAGES = {
    "dedupe": pairs_shard,
    "features": customer_features_shard,
    "predict": scores_shard,
    "segment": segments_shard,
    "publish": export_shard,
}


@flow(name="stage-shard", on_failure=[notify_failure], on_crashed=[notify_failure])
def stage_shard(stage: str, as_of: date, shard: int, shards: int, config: str, work_table: str) -> int:
    """Compute one shard of a stage for a day; started by that day's refresh, not by hand.

    Args:
        stage: The stage whose work this is (dedupe: candidate pairs; features, predict, segment, publish:
            customers).
        as_of: The day the refresh computes.
        shard: Which shard, 0 to shards - 1: the customers whose customer-id hash modulo shards is this (for
            publish, the shard-th range of customer ids; for dedupe, the candidate pairs whose left record's
            node modulo shards is this).
        shards: How many shards the work is split into.
        config: The pipeline config's path, as the refresh that started this run read it (a lake config).
        work_table: The table the refresh made for its shards' rows (for publish, the day's rows the shards
            write as part files).
    """
    os.umask(0o077)
    if stage not in SHARDED_STAGES:
        raise ValueError(f"stage {stage!r} has no shards; one of {sorted(SHARDED_STAGES)}")
    pipeline = load_config(config)
    if pipeline.lake is None:
        raise ValueError(f"{config}: shards need a lake warehouse (warehouse: {{ducklake: …}})")
    with Warehouse.open(pipeline) as wh:
        rows = SHARDED_STAGES[stage](wh, pipeline, as_of, shard, shards, work_table)
    get_run_logger().info("%s as of %s, shard %d of %d: %d rows", stage, as_of, shard + 1, shards, rows)
    return rows
