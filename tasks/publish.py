"""Publish stage: audits, then the day's segments into published tables and export files.

Tables: the as_of's rows are replaced in one transaction, so readers see the old rows or the
new ones, never a mix, and a rerun of the same as_of replaces rather than duplicates.
Files: written into a new version folder (fsynced, manifest last), then `exports/<as_of>` — a
symbolic link — is switched to it with one atomic rename; the previous version is kept.
"""

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from tasks.config import PipelineConfig
from tasks.errors import STAGE_TASK_OPTIONS, DataError
from tasks.report import render_markdown
from tasks.tags import publish_tags
from tasks.warehouse import SQL_DIR, Warehouse

AUDITS = sorted(p.stem for p in (SQL_DIR / "audits").glob("*.sql"))
UTF8_BOM = b"\xef\xbb\xbf"


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
    existing = {name for (name,) in wh.rows(f"select column_name from (describe {table})")}
    for name, sql_type in wh.rows(f"select column_name, column_type from (describe ({sql}))", params):
        if name not in existing:
            wh.execute(f'alter table {table} add column "{name}" {sql_type}')


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
    return rows


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _file_entry(path: Path, rows: int) -> dict[str, object]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return {"rows": rows, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def write_exports(
    wh: Warehouse, exports: Path, as_of: date, run_id: str, config_hash: str, report: str
) -> PublishResult:
    """Write the as_of's export files into a new version folder, then point exports/<as_of> at it at once.

    Layout: exports/<as_of> is a symbolic link to exports/.versions/<as_of>/<version>/. The version is
    written completely (files fsynced, manifest last) before the link is replaced with one atomic
    rename, so a reader sees the previous version or the new one, never a mix. The previous version
    is kept; older ones are removed.
    """
    versions = exports / ".versions" / as_of.isoformat()
    versions.mkdir(parents=True, exist_ok=True, mode=0o700)
    version = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{run_id[:8]}"
    building = versions / f".{version}.tmp"
    try:
        building.mkdir(mode=0o700)
        files, rows, sizes = _write_version(wh, building, as_of, run_id, config_hash, report)
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
    _fsync_dir(exports)
    for old in sorted(p for p in versions.iterdir() if not p.name.startswith("."))[:-2]:
        shutil.rmtree(old, ignore_errors=True)
    return PublishResult(as_of=as_of, rows=rows, export_dir=str(final), files=files)


def _write_version(
    wh: Warehouse, folder: Path, as_of: date, run_id: str, config_hash: str, report: str
) -> tuple[dict[str, dict[str, object]], int, int]:
    """Write the export files and the manifest (last) into folder; return file entries and row counts."""
    query = (
        "select * exclude (run_id) from published.customer_segments where as_of = $as_of order by customer_id"
    )
    rows = wh.scalar("select count(*) from published.customer_segments where as_of = ?", [as_of])
    version = code_version()
    files: dict[str, dict[str, object]] = {}

    parquet = folder / "customer_segments.parquet"
    target = str(parquet).replace("'", "''")
    wh.execute(f"copy ({query}) to '{target}' (format parquet)", {"as_of": as_of})
    # CSV for people: UTF-8 with a BOM so that Excel shows Chinese labels correctly.
    csv = folder / "customer_segments.csv"
    frame = wh.frame(query, {"as_of": as_of})
    with csv.open("wb") as handle:
        handle.write(UTF8_BOM)
        frame.write_csv(handle)
    sizes = folder / "segment_sizes.csv"
    size_frame = wh.frame(wh.model_sql("published/segment_sizes"), {"as_of": as_of})
    with sizes.open("wb") as handle:
        handle.write(UTF8_BOM)
        size_frame.write_csv(handle)
    report_path = folder / "report.md"
    report_path.write_text(report, encoding="utf-8")

    for path, count in ((parquet, rows), (csv, rows), (sizes, size_frame.height), (report_path, None)):
        os.chmod(path, 0o600)
        _fsync(path)
        files[path.name] = _file_entry(path, count)
    manifest = {
        "as_of": as_of.isoformat(),
        "run_id": run_id,
        "config_hash": config_hash,
        "code_version": version,
        "created_at": datetime.now(UTC).isoformat(),
        "row_counts": {"customer_segments": rows, "segment_sizes": size_frame.height},
        "files": files,
    }
    manifest_path = folder / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.chmod(manifest_path, 0o600)
    _fsync(manifest_path)
    return files, rows, size_frame.height


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@task(name="publish", **STAGE_TASK_OPTIONS)
def publish(config: PipelineConfig, as_of: date, run_id: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Audit, then publish the as_of's segments to published tables, export files and a Prefect artifact."""
    report = render_markdown(
        {**summary, "publish": {"export_dir": str(config.exports_path / as_of.isoformat())}}
    )
    with Warehouse.open(config) as wh:
        run_audits(wh, as_of)
        # Tables and files become visible together: the table rows commit only after the export
        # version is written and switched in; a failure on the way rolls the tables back.
        with wh.transaction():
            publish_tables(wh, as_of, run_id, config.config_hash())
            result = write_exports(wh, config.exports_path, as_of, run_id, config.config_hash(), report)
    create_markdown_artifact(
        markdown=report, key="customer-segments-summary", description=f"Segments as of {as_of}"
    )
    get_run_logger().info("published %d rows as of %s to %s", result.rows, as_of, result.export_dir)
    return {
        "rows": result.rows,
        "export_dir": result.export_dir,
        "report": str(Path(result.export_dir) / "report.md"),
    }
