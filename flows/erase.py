"""Erasure: remove one person from every warehouse layer, published history and export files."""

import os

from prefect import flow, get_run_logger

from flows.hooks import notify_failure
from flows.runs import config_path
from tasks.erase import erase_customer
from tasks.erase.compact import compact_store, mark_pending, unmark_pending
from tasks.shared.config import load_config
from tasks.shared.errors import DataError
from tasks.shared.lock import warehouse_lock
from tasks.shared.warehouse import Warehouse


@flow(name="erase-customer", on_failure=[notify_failure], on_crashed=[notify_failure])
def erase(customer_id: str, config: str | None = None, compact: bool = True) -> dict:
    """Erase one person everywhere; idempotent (a second run removes nothing and says so).

    Args:
        customer_id: A published customer id of the person (C followed by 16 hex digits); an id merged
            into another one erases the person it now belongs to. An id never issued is refused.
        config: Path of the pipeline config YAML, relative to the run's working directory. Empty: the
            environment variable SEGMENTS_CONFIG, else the Prefect Variable segments_config, else
            demo-data/config.yaml.
        compact: Rewrite the warehouse file afterwards with its live rows only, so that the erased rows
            leave no bytes in it (DuckDB does not overwrite deleted rows; about 20 s per 100,000
            customers). Off when erasing several people in a row: the last erasure compacts.
    """
    logger = get_run_logger()
    os.umask(0o077)
    config = config_path(config)
    pipeline = load_config(config)
    with warehouse_lock(
        pipeline.warehouse_path, f"erase-customer {customer_id}", logger, catalog=pipeline.lake_catalog()
    ):
        # the next refresh compacts in its place if this process is killed before it (or compact is off)
        mark_pending(pipeline.warehouse_path, customer_id)
        try:
            with Warehouse.open(pipeline) as wh:
                result = erase_customer(wh, pipeline, customer_id)
        except DataError:  # an id never issued: nothing removed, nothing to compact
            unmark_pending(pipeline.warehouse_path, customer_id)
            raise
        if compact:  # under the lock, with no connection of ours open
            result["warehouse_bytes"] = compact_store(pipeline)
            logger.info("compacted %s: %d bytes", pipeline.warehouse_path, result["warehouse_bytes"])
    logger.info(
        "erased %s (%d customer ids): %d rows from %d tables, %d files rewritten or removed",
        customer_id,
        result["customer_ids"],
        result["rows_removed"],
        len(result["tables"]),
        len(result["files"]),
    )
    return result
