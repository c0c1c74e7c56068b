"""The export files of a publish: a new version folder per run, switched in with one atomic rename.

Files are written into a new version folder (fsynced, manifest last), then `exports/<as_of>` — a
symbolic link — is switched to it with one atomic rename; the previous version is kept.
"""

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from tasks.publish.audits import audit_exports
from tasks.publish.destinations import write_destination_files
from tasks.publish.tables import code_version
from tasks.shared.config import DestinationConfig
from tasks.shared.files import file_entry, fsync_dir, write_file, write_text
from tasks.shared.warehouse import Warehouse


@dataclass(frozen=True)
class PublishResult:
    """Where a publish put things and how much."""

    as_of: date
    rows: int
    export_dir: str
    files: dict[str, dict[str, object]] = field(default_factory=dict)


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
    """Write the as_of's export files into a new version folder, audit them, then point exports/<as_of> at it.

    Layout: exports/<as_of> is a symbolic link to exports/.versions/<as_of>/<version>/. The version is
    written completely (files fsynced, manifest last) before the link is replaced with one atomic
    rename, so a reader sees the previous version or the new one, never a mix. Before that, the export
    audit (audits.audit_exports) reads the files back: a DataError leaves the previous version live.
    The previous version is kept; older ones are removed.
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
        audit_exports(wh, as_of, building)  # the files, read back, hold the day's published rows
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
    for scheme, change, n in wh.rows(wh.model_sql("published/segment_change_counts"), {"as_of": as_of}):
        counts.setdefault(scheme, {"entered": 0, "exited": 0})[change] = n
    return counts
