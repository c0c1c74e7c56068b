"""Publish stage: audits, then the day's segments into published tables and export files.

Tables: the as_of's rows are replaced in one transaction, so readers see the old rows or the
new ones, never a mix, and a rerun of the same as_of replaces rather than duplicates.
Files: written into a new version folder (fsynced, manifest last), then `exports/<as_of>` — a
symbolic link — is switched to it with one atomic rename; the previous version is kept.
"""

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.publish.destinations import deliver_all, write_destination_files
from tasks.publish.privacy import load_suppression
from tasks.publish.report import render_html, render_markdown, report_data
from tasks.shared.config import DestinationConfig, PipelineConfig
from tasks.shared.errors import STAGE_TASK_OPTIONS, DataError
from tasks.shared.files import file_entry, fsync_dir, write_file, write_text
from tasks.shared.warehouse import SQL_DIR, Warehouse

AUDITS = sorted(p.stem for p in (SQL_DIR / "audits").glob("*.sql"))


@dataclass(frozen=True)
class PublishResult:
    """Where a publish put things and how much."""

    as_of: date
    rows: int
    export_dir: str
    files: dict[str, dict[str, object]] = field(default_factory=dict)


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version and, when run from a git checkout, the commit."""
    version = metadata.version("precision-segments")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=SQL_DIR.parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+{commit}"


def run_audits(wh: Warehouse, as_of: date) -> None:
    """Run every audit query; raise a DataError listing the ones that returned rows."""
    failures = []
    for audit in AUDITS:
        rows = wh.audit(audit, {"as_of": as_of})
        if rows:
            failures.append(f"{audit}: {len(rows)} offending rows, e.g. {rows[0]}")
    if failures:
        raise DataError("audits failed, nothing was published:\n  " + "\n  ".join(failures))


def add_new_columns(wh: Warehouse, table: str, sql: str, params: dict[str, Any]) -> None:
    """Add to a published table the columns a newer version of its model has (older days keep nulls there)."""
    existing = set(wh.columns(table))
    for name, sql_type in wh.rows(f"select column_name, column_type from (describe ({sql}))", params):
        if name not in existing:
            wh.execute(f'alter table {table} add column "{name}" {sql_type}')


def publish_tags(wh: Warehouse, as_of: date) -> int:
    """Replace the as_of's rows of published.customer_tags (call inside the publish transaction)."""
    with wh.transaction():
        wh.execute(
            "create table if not exists published.customer_tags as from segments.customer_tags limit 0"
        )
        wh.execute("delete from published.customer_tags where as_of = ?", [as_of])
        wh.execute("insert into published.customer_tags by name from segments.customer_tags")
        return wh.scalar("select count(*) from published.customer_tags where as_of = ?", [as_of])


def publish_tables(wh: Warehouse, as_of: date, run_id: str, config_hash: str) -> int:
    """Replace the as_of's rows of published.customer_segments and record the run, atomically."""
    sql = wh.model_sql("published/customer_segments")
    params = {"run_id": run_id}
    with wh.transaction():
        wh.execute(f"create table if not exists published.customer_segments as {sql} limit 0", params)
        add_new_columns(wh, "published.customer_segments", sql, params)
        wh.execute("delete from published.customer_segments where as_of = ?", [as_of])
        wh.execute(f"insert into published.customer_segments by name {sql}", params)
        rows = wh.scalar("select count(*) from published.customer_segments where as_of = ?", [as_of])
        publish_tags(wh, as_of)
        wh.execute(
            """
            create table if not exists published.runs (
                run_id varchar, as_of date, config_hash varchar, code_version varchar,
                rows bigint, published_at timestamptz
            )
            """
        )
        wh.execute(
            "insert into published.runs values (?, ?, ?, ?, ?, now())",
            [run_id, as_of, config_hash, code_version(), rows],
        )
        publish_changes(wh, as_of)
    return rows


def publish_changes(wh: Warehouse, as_of: date) -> date | None:
    """Replace the as_of's rows of published.segment_changes (against the previous published as_of)."""
    previous = wh.scalar("select max(as_of) from published.customer_segments where as_of < ?", [as_of])
    memberships = wh.model_sql("published/segment_memberships")
    with wh.transaction():
        wh.execute(f"create or replace temp table _memberships_now as {memberships}", {"as_of": as_of})
        wh.execute(f"create or replace temp table _memberships_before as {memberships}", {"as_of": previous})
        changes = wh.model_sql("published/segment_changes")
        params = {"as_of": as_of, "previous": previous}
        wh.execute(f"create table if not exists published.segment_changes as {changes} limit 0", params)
        wh.execute("delete from published.segment_changes where as_of = ?", [as_of])
        wh.execute(f"insert into published.segment_changes by name {changes}", params)
    return previous


def write_exports(
    wh: Warehouse,
    exports: Path,
    as_of: date,
    run_id: str,
    config_hash: str,
    report: str,
    *,
    html: str | None = None,
    destinations: Sequence[DestinationConfig] = (),
    pii: Sequence[str] = (),
) -> PublishResult:
    """Write the as_of's export files into a new version folder, then point exports/<as_of> at it at once.

    Layout: exports/<as_of> is a symbolic link to exports/.versions/<as_of>/<version>/. The version is
    written completely (files fsynced, manifest last) before the link is replaced with one atomic
    rename, so a reader sees the previous version or the new one, never a mix. The previous version
    is kept; older ones are removed.
    """
    exports.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(exports, 0o700)
    (exports / ".versions").mkdir(exist_ok=True, mode=0o700)
    versions = exports / ".versions" / as_of.isoformat()
    versions.mkdir(parents=True, exist_ok=True, mode=0o700)
    version = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{run_id[:8]}"
    building = versions / f".{version}.tmp"
    try:
        building.mkdir(mode=0o700)
        files, rows = _write_version(
            wh, building, as_of, run_id, config_hash, report, html, destinations, list(pii)
        )
        building.rename(versions / version)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)  # never leave customer rows in a half-written folder
        raise
    final = exports / as_of.isoformat()
    link = exports / f".{as_of.isoformat()}.{version}.link"
    link.symlink_to(Path(".versions") / as_of.isoformat() / version)
    if final.is_dir() and not final.is_symlink():
        shutil.rmtree(final)  # a folder from before versioned exports
    os.replace(link, final)
    fsync_dir(exports)
    for old in sorted(p for p in versions.iterdir() if not p.name.startswith("."))[:-2]:
        shutil.rmtree(old, ignore_errors=True)
    return PublishResult(as_of=as_of, rows=rows, export_dir=str(final), files=files)


def _write_version(
    wh: Warehouse,
    folder: Path,
    as_of: date,
    run_id: str,
    config_hash: str,
    report: str,
    html: str | None,
    destinations: Sequence[DestinationConfig],
    pii: list[str],
) -> tuple[dict[str, dict[str, object]], int]:
    """Write the export files and the manifest (last) into folder; return file entries and the row count."""
    query = (
        "select * exclude (run_id) from published.customer_segments where as_of = $as_of order by customer_id"
    )
    frame = wh.frame(query, {"as_of": as_of})
    size_frame = wh.frame(wh.model_sql("published/segment_sizes"), {"as_of": as_of})
    counts: dict[str, int | None] = {}
    # CSV for people: UTF-8 with a BOM so that Excel shows Chinese labels correctly.
    for name, data in (
        ("customer_segments.parquet", frame),
        ("customer_segments.csv", frame),
        ("segment_sizes.csv", size_frame),
    ):
        write_file(data, folder / name)
        counts[name] = data.height
    write_text(report, folder / "report.md")
    counts["report.md"] = None
    if html is not None:
        write_text(html, folder / "report.html")
        counts["report.html"] = None
    for destination in destinations:
        if destination.kind == "files":
            counts |= write_destination_files(wh, destination, folder, as_of, pii)
    files = {name: file_entry(folder / name, count) for name, count in counts.items()}
    manifest = {
        "as_of": as_of.isoformat(),
        "run_id": run_id,
        "config_hash": config_hash,
        "code_version": code_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "row_counts": {"customer_segments": frame.height, "segment_sizes": size_frame.height},
        "files": files,
    }
    # The manifest is the commit marker of a version: written last, after every file is on disk.
    write_text(json.dumps(manifest, indent=2, ensure_ascii=False), folder / "manifest.json")
    fsync_dir(folder)
    return files, frame.height


def change_counts(wh: Warehouse, as_of: date) -> dict[str, dict[str, int]]:
    """Entered and exited customers per scheme on as_of."""
    counts: dict[str, dict[str, int]] = {}
    for scheme, change, n in wh.rows(
        "select scheme, change, count(*) from published.segment_changes where as_of = ? group by all order by 1, 2",
        [as_of],
    ):
        counts.setdefault(scheme, {"entered": 0, "exited": 0})[change] = n
    return counts


def report_markdown_artifact(summary: dict[str, Any], sizes: list[dict[str, Any]], html_path: Path) -> str:
    """The Prefect markdown summary: the run report, a link to the HTML report, the segment sizes."""
    lines = [
        render_markdown(summary),
        "## HTML report",
        f"[{html_path.name}]({html_path.as_uri()}) — `{html_path}` (opens offline)",
        "## Segment sizes (RFM)",
        "| segment | 中文 | customers |",
        "|---|---|---|",
        *(f"| {r['rfm_segment']} | {r['rfm_segment_zh'] or ''} | {r['customers']} |" for r in sizes),
    ]
    return "\n\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n"


@task(name="publish", **STAGE_TASK_OPTIONS)
def publish(config: PipelineConfig, as_of: date, run_id: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Audit, then publish the as_of's segments to published tables, export files and Prefect artifacts."""
    export_dir = config.exports_path / as_of.isoformat()
    with Warehouse.open(config) as wh:
        load_suppression(wh, config)
        run_audits(wh, as_of)
        # Tables and files become visible together: the table rows commit only after the export
        # version is written and switched in; a failure on the way rolls the tables back.
        with wh.transaction():
            publish_tables(wh, as_of, run_id, config.config_hash())
            changes = change_counts(wh, as_of)
            full = {
                **summary,
                "changes": changes,
                "publish": {"export_dir": str(export_dir), "report_html": str(export_dir / "report.html")},
            }
            report = render_markdown(full)
            html = render_html(report_data(wh, as_of, full))
            result = write_exports(
                wh,
                config.exports_path,
                as_of,
                run_id,
                config.config_hash(),
                report,
                html=html,
                destinations=config.destinations,
                pii=config.privacy.pii_fields,
            )
        sizes = wh.select("published/segment_sizes", {"as_of": as_of})
        # Webhooks are outside the warehouse: sent after the publish committed, each batch once.
        deliveries = deliver_all(wh, config, as_of)
    html_path = Path(result.export_dir) / "report.html"
    create_markdown_artifact(
        markdown=report_markdown_artifact(full, sizes, html_path),
        key="customer-segments-summary",
        description=f"Segments as of {as_of}",
    )
    create_table_artifact(
        table=sizes,
        key="segment-sizes",
        description=f"RFM segment sizes as of {as_of}",
    )
    logger = get_run_logger()
    logger.info("published %d rows as of %s to %s", result.rows, as_of, result.export_dir)
    for scheme, counts in changes.items():
        logger.info("%s: %d entered, %d exited", scheme, counts["entered"], counts["exited"])
    return {
        "rows": result.rows,
        "export_dir": result.export_dir,
        "report": str(Path(result.export_dir) / "report.md"),
        "report_html": str(html_path),
        "changes": changes,
        "deliveries": deliveries,
    }
