"""Publish stage: audits, then the day's segments into published tables and export files.

Tables: the as_of's rows are replaced in one transaction, so readers see the old rows or the
new ones, never a mix, and a rerun of the same as_of replaces rather than duplicates (tables.py).
Files: written into a new version folder inside that transaction and recorded in it; switched in
with one atomic rename only after it commits (exports.py). A publish killed at any point leaves either
nothing of the day visible or the committed day, whose link the next publish completes.
"""

import contextlib
import logging
from datetime import date
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.publish.audits import AUDITS, run_audits
from tasks.publish.destinations import deliver_all
from tasks.publish.exports import (
    PublishResult,
    change_counts,
    discard_exports,
    new_version,
    outside_window,
    prepare_exports,
    prune_exports,
    recover_exports,
    switch_exports,
    write_exports,
)
from tasks.publish.privacy import load_suppression
from tasks.publish.report import render_html, report_data
from tasks.publish.report_markdown import render_markdown
from tasks.publish.shards import customer_parts as sharded_parts
from tasks.publish.shards import parts_table
from tasks.publish.source_totals import source_totals
from tasks.publish.summary import summary_figures, summary_markdown
from tasks.publish.tables import code_version, partial_days, publish_tables
from tasks.segment.stability import previous_published_day
from tasks.shared import shards as sharding
from tasks.shared.artifacts import record_counts
from tasks.shared.config import PipelineConfig
from tasks.shared.errors import STAGE_TASK_OPTIONS
from tasks.shared.warehouse import Warehouse

__all__ = [
    "AUDITS",
    "PublishResult",
    "code_version",
    "partial_days",
    "publish",
    "publish_day",
    "publish_tables",
    "recover_exports",
    "run_audits",
    "write_exports",
]


def publish_day(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date,
    run_id: str,
    summary: dict[str, Any],
    logger: logging.Logger | logging.LoggerAdapter,
    shard_plan: sharding.ShardPlan | None = None,
) -> tuple[PublishResult, dict[str, Any], dict[str, dict[str, int]], dict[str, int]]:
    """Audit, then publish the as_of's rows and export version: (result, full summary, changes, table rows).

    shard_plan: the customer files written in the plan's shards (a lake's `shards`; tasks/publish/shards.py)
    before the transaction, from the day's rows committed to a work table, and joined inside it.

    Order: what killed publishes left is put right first (recover_exports); the tables and the export
    version (written, audited, recorded in published.runs) commit in one transaction; only then is
    exports/<as_of> switched to the version. A failure before the commit rolls the tables back and
    removes the version; a kill after it leaves a committed version that the next publish links.
    """
    for line in recover_exports(wh, config.exports_path):
        logger.warning("%s", line)
    load_suppression(wh, config)
    run_audits(wh, as_of)
    tables: dict[str, int] = {}
    version = new_version(run_id)
    with contextlib.ExitStack() as parts:
        customer_parts = None
        # no shards for a day whose files are not written (older than keep_export_days keeps)
        if shard_plan is not None and not outside_window(wh, as_of, config.keep_export_days):
            folder, ran = parts.enter_context(sharded_parts(wh, config, as_of, run_id, shard_plan, logger))
            customer_parts = (folder, shard_plan.shards)
            for shard, how in sorted(ran.ran.items()):
                logger.info("customer files shard %d of %d: %s", shard + 1, shard_plan.shards, how)
        result, full, changes, unwritten = publish_transaction(
            wh, config, as_of, run_id, summary, version, tables, customer_parts
        )
    if unwritten:
        logger.warning("export files of %s %s", as_of, unwritten)
    else:
        for line in switch_exports(config.exports_path, result).moved_aside:
            logger.warning("%s", line)
    for line in prune_exports(wh, config.exports_path, config.keep_export_days):
        if line.startswith(f"removed the export files of {as_of.isoformat()} "):
            logger.warning("%s: %s is older than the days keep_export_days keeps", line, as_of)
        else:
            logger.info("%s", line)
    return result, full, changes, tables


def publish_transaction(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date,
    run_id: str,
    summary: dict[str, Any],
    version: str,
    tables: dict[str, int],
    customer_parts: tuple[Path, int] | None,
) -> tuple[PublishResult, dict[str, Any], dict[str, dict[str, int]], str | None]:
    """The published tables and the export version (prepared, not switched in) in one transaction: (result,
    full summary, changes, why no files were written or None); tables receives the rows per table."""
    member_sources = [source.name for source in config.sources if source.kind == "customers"]
    export_dir = config.exports_path / as_of.isoformat()
    try:
        with wh.transaction():
            partial = bool(summary.get("partial", False))
            publish_tables(
                wh,
                as_of,
                run_id,
                config.config_hash(),
                counts=tables,
                partial=partial,
                act=config.act,
                member_sources=member_sources,
            )
            changes = change_counts(wh, as_of)
            unwritten = outside_window(wh, as_of, config.keep_export_days)
            # every configured source, also when this run extracted nothing (a partial day recomputed)
            full = {
                **summary,
                "sources_kept": source_totals(wh, [(source.name, source.kind) for source in config.sources]),
                "act": with_listed(wh, as_of, summary.get("act")),
                "changes": changes,
                "scheme_sizes": wh.select("published/scheme_sizes", {"as_of": as_of}),
                "publish": (
                    {"export_dir": None, "report_html": None, "unwritten": unwritten}
                    if unwritten
                    else {"export_dir": str(export_dir), "report_html": str(export_dir / "report.html")}
                ),
            }
            if unwritten:  # the files would be pruned right after: the published tables hold the day
                result = PublishResult(as_of, tables["published.customer_segments"], "")
            else:
                result = prepare_exports(
                    wh,
                    config.exports_path,
                    as_of,
                    run_id,
                    config.config_hash(),
                    render_markdown(full, config.report.language),
                    version=version,
                    html=render_html(report_data(wh, as_of, full, config.report.language)),
                    destinations=config.destinations,
                    pii=config.privacy.pii_fields,
                    act=config.act,
                    member_sources=member_sources,
                    customer_parts=customer_parts,
                    partial=partial,
                    source_ids=config.export_source_ids,
                )
    except BaseException:
        discard_exports(config.exports_path, as_of, version)  # not committed: no files of it may stay
        raise
    return result, full, changes, unwritten


def with_listed(wh: Warehouse, as_of: date, act: dict[str, Any] | None) -> dict[str, Any] | None:
    """The act summary with each audience's customers on the day's outreach list, by channel."""
    if not act or not act.get("audiences"):
        return act
    listed: dict[str, dict[str, int]] = {}
    for audience, channel, customers in wh.rows(
        "select audience, channel, count(*) from published.outreach where as_of = ? group by all order by all",
        [as_of],
    ):
        listed.setdefault(audience, {})[channel] = customers
    audiences = [
        {
            **a,
            "listed": sum(listed.get(a["audience"], {}).values()),
            "channels": listed.get(a["audience"], {}),
        }
        for a in act["audiences"]
    ]
    return {**act, "audiences": audiences}


@task(name="publish", **STAGE_TASK_OPTIONS)
def publish(config: PipelineConfig, as_of: date, run_id: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Audit, then publish the as_of's segments to published tables, export files and Prefect artifacts."""
    logger = get_run_logger()
    plan = sharding.plan(config, "publish", as_of, parts_table())
    with Warehouse.open(config) as wh:
        result, full, changes, tables = publish_day(wh, config, as_of, run_id, summary, logger, plan)
        record_counts(
            "publish",
            [{"output": table, "rows": rows} for table, rows in tables.items()]
            + [
                {"output": f"exports/{as_of.isoformat()}/{name}", "rows": entry["rows"]}
                for name, entry in result.files.items()
            ],
            f"Published tables and export files as of {as_of}",
        )
        sizes = wh.select("published/segment_sizes", {"as_of": as_of})
        export_dir = (
            Path(result.export_dir) if result.export_dir else None
        )  # None: not written (keep_export_days)
        figures = summary_figures(wh, as_of, full, changes, export_dir)
        since = previous_published_day(wh, as_of)  # what the changes are against (None: the first day)
        # Webhooks are outside the warehouse: sent after the publish committed, each batch once.
        deliveries = deliver_all(wh, config, as_of)
    create_markdown_artifact(
        markdown=summary_markdown(figures),
        key="customer-segments-summary",
        description=f"Segments as of {as_of}",
    )
    create_table_artifact(
        table=sizes,
        key="segment-sizes",
        description=f"RFM segment sizes as of {as_of}",
    )
    logger.info(
        "published %d rows as of %s to %s", result.rows, as_of, result.export_dir or "the tables only"
    )
    for scheme, counts in changes.items():
        logger.info("%s: %d entered, %d exited", scheme, counts["entered"], counts["exited"])
    return {
        "rows": result.rows,
        "export_dir": result.export_dir or None,
        "report": str(export_dir / "report.md") if export_dir else None,
        "report_html": str(export_dir / "report.html") if export_dir else None,
        "changes": changes,
        "changes_since": since.isoformat() if since else None,
        "deliveries": deliveries,
    }
