"""The export files of a publish: a new version folder per run, switched in with one atomic rename.

A version is written completely (files fsynced, manifest last) under a temporary name,
`exports/.versions/<as_of>/.<version>.tmp/`, and recorded in published.runs (export_version) inside
the publish's transaction. Only after that transaction commits is the folder renamed to `<version>/`
and `exports/<as_of>` — a symbolic link — switched to it with one atomic rename; the previous
version is kept. So no reader ever sees files of a day whose rows did not commit.

A kill can leave two things, which the next publish puts right (recover_exports): an unfinished or
uncommitted `.<version>.tmp/` (removed), and a committed version that was not linked yet (linked).
"""

import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tasks.publish.audits import audit_exports
from tasks.publish.destinations import write_destination_files
from tasks.publish.outreach import write_outreach_files
from tasks.publish.shards import PUBLISHED, customer_file_sql, join_parts
from tasks.publish.tables import code_version, committed_versions
from tasks.shared.config import ActConfig, DestinationConfig
from tasks.shared.errors import DataError
from tasks.shared.files import file_entry, fsync_dir, write_file, write_text
from tasks.shared.warehouse import Warehouse

KEEP_VERSIONS = 2  # the current version of a day and the one before


@dataclass(frozen=True)
class PublishResult:
    """Where a publish put things and how much."""

    as_of: date
    rows: int
    export_dir: str
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    version: str = ""
    moved_aside: list[str] = field(default_factory=list)  # what stood where the day's link goes (link())


def new_version(run_id: str) -> str:
    """The name of a new export version: its UTC time (so names sort by age) and the run."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{run_id[:8]}"


def building_folder(exports: Path, as_of: date, version: str) -> Path:
    """Where a version is written before its publish commits."""
    return exports / ".versions" / as_of.isoformat() / f".{version}.tmp"


def prepare_exports(
    wh: Warehouse,
    exports: Path,
    as_of: date,
    run_id: str,
    config_hash: str,
    report: str,
    *,
    version: str | None = None,
    html: str | None = None,
    destinations: Sequence[DestinationConfig] = (),
    pii: Sequence[str] = (),
    act: ActConfig | None = None,
    member_sources: Sequence[str] = (),
    customer_parts: tuple[Path, int] | None = None,
    partial: bool = False,
    source_ids: bool = False,
) -> PublishResult:
    """Write the as_of's export version under its temporary name, audit it and record it in published.runs.

    partial: the day had not ended when the run started (the manifest says so).
    source_ids: the customer files carry the ids the sources know each customer by (export_source_ids).
    act: outreach lists per channel and recommendations.csv are written as its settings say (none without).
    customer_parts: the customer files' part files written by shards (their folder, how many;
    tasks/publish/shards.py), joined instead of writing the files from the published rows.

    Call inside the publish's transaction, after publish_tables; switch_exports makes it live after
    the commit. The export audit (audits.audit_exports) reads the files back: a DataError leaves the
    previous version live. On any failure the temporary folder is removed.
    """
    for folder in (exports, exports / ".versions", exports / ".versions" / as_of.isoformat()):
        if os.path.lexists(folder) and not folder.is_dir():  # mkdir would say only "File exists"
            what = (
                f"a link to {os.readlink(folder)}, which does not exist" if folder.is_symlink() else "a file"
            )
            raise DataError(
                f"exports: {folder} is {what}, not a folder: the day's files cannot be written there; move it "
                "away, or set exports: in the config to another folder"
            )
    exports.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(exports, 0o700)
    (exports / ".versions").mkdir(exist_ok=True, mode=0o700)
    (exports / ".versions" / as_of.isoformat()).mkdir(exist_ok=True, mode=0o700)
    version = version or new_version(run_id)
    building = building_folder(exports, as_of, version)
    try:
        building.mkdir(mode=0o700)
        files, rows = _write_version(
            wh,
            building,
            as_of,
            run_id,
            config_hash,
            report,
            html,
            destinations,
            list(pii),
            act,
            list(member_sources),
            customer_parts,
            partial,
            source_ids,
        )
        audit_exports(wh, as_of, building)  # the files, read back, hold the day's published rows
        record_version(wh, as_of, run_id, version)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)  # never leave customer rows in a half-written folder
        raise
    return PublishResult(as_of, rows, str(exports / as_of.isoformat()), files, version)


def record_version(wh: Warehouse, as_of: date, run_id: str, version: str) -> None:
    """Name the version in the run's published.runs row of as_of (the one publish_tables just added)."""
    wh.execute(
        "update published.runs set export_version = ? where run_id = ? and as_of = ? and export_version is null",
        [version, run_id, as_of],
    )


def discard_exports(exports: Path, as_of: date, version: str) -> None:
    """Remove a version that was prepared but not committed."""
    shutil.rmtree(building_folder(exports, as_of, version), ignore_errors=True)


def switch_exports(exports: Path, result: PublishResult) -> PublishResult:
    """Make a prepared (and committed) version live: rename it, point exports/<as_of> at it, drop old versions."""
    day = result.as_of.isoformat()
    versions = exports / ".versions" / day
    building = building_folder(exports, result.as_of, result.version)
    if building.exists():
        building.rename(versions / result.version)
        fsync_dir(versions)
    if moved := link(exports, day, result.version):
        result.moved_aside.append(moved)
    for old in sorted(p for p in versions.iterdir() if not p.name.startswith("."))[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return result


def link(exports: Path, day: str, version: str) -> str | None:
    """Point exports/<day> at .versions/<day>/<version> with one atomic rename. A folder or file that stands
    there instead of a link (copied in by hand, or from before versioned exports) is never deleted: it is
    renamed exports/<day>.replaced-<UTC time>; the line returned says so (None when nothing was there)."""
    final = exports / day
    temp = exports / f".{day}.{version}.link"
    temp.unlink(missing_ok=True)
    temp.symlink_to(Path(".versions") / day / version)
    moved = None
    if final.exists() and not final.is_symlink():
        aside = exports / f"{day}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        final.rename(aside)
        kind = "folder" if aside.is_dir() else "file"
        moved = (
            f"{final} was a {kind}, not the day's link: moved aside to {aside.name}, nothing in it deleted"
        )
    os.replace(temp, final)
    fsync_dir(exports)
    return moved


# An export day's folder or link: exports/<YYYY-MM-DD>, exports/.versions/<YYYY-MM-DD>.
DAY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REPLACED_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}\.replaced-")  # a folder or file link() moved aside


def orphaned_exports(exports: Path, warehouse: Path) -> str | None:
    """A warning when the warehouse file is missing but exports/ holds published days (it was deleted or
    moved, or the config names another file): a new warehouse starts their history over. None otherwise."""
    root = exports / ".versions"
    if warehouse.exists() or not root.is_dir():
        return None
    days = sorted(p.name for p in root.iterdir() if DAY_NAME.match(p.name) and any(p.iterdir()))
    if not days:
        return None
    return (
        f"warehouse {warehouse} does not exist, but {exports} holds {len(days)} published day(s), "
        f"{days[0]}..{days[-1]}: a new warehouse is made, and the published history, membership changes and "
        "the customer id registry start over. If the file was moved or lost, stop this run and put it back"
    )


def prune_exports(wh: Warehouse, exports: Path, keep_days: int | None) -> list[str]:
    """Remove the export folders of days before the last keep_days up to the newest published day; return
    what was done, one line each (with keep_days None, only what a killed prune left).

    The newest day is the latest as_of in published.runs, not today: a backfill of older days keeps the
    same days as the daily runs would. A day goes in three steps, each safe to be killed after: its
    versions folder is renamed to `.versions/.<day>.pruned` (one rename: recover_exports no longer sees
    it), exports/<day> is unlinked, the renamed folder is removed. A later prune finishes what a kill left.
    The warehouse keeps the day's published rows.
    """
    root = exports / ".versions"
    done = []
    for left in sorted(root.glob(".*.pruned")) if root.is_dir() else []:
        day = left.name[1 : -len(".pruned")]
        done += _removed(left, f"finished removing the export files of {day}")
        link = exports / day
        if link.is_symlink() and not link.exists():
            link.unlink()
    window = kept_window(wh, keep_days)
    if window is None or not exports.is_dir():
        return done
    first_kept, newest = (day.isoformat() for day in window)
    kept = f"(kept: {keep_days} days up to {newest})"
    for entry in sorted([*exports.iterdir(), *(root.iterdir() if root.is_dir() else [])]):
        if REPLACED_NAME.match(entry.name) and entry.name[:10] < first_kept:  # what link() moved aside
            if entry.is_dir() and not entry.is_symlink():
                done += _removed(entry, f"removed {entry.name}, moved aside from the day's link {kept}")
            else:
                entry.unlink()
                done.append(f"removed {entry.name}, moved aside from the day's link {kept}")
            continue
        if not DAY_NAME.match(entry.name) or entry.name >= first_kept:
            continue
        if entry.parent == root:
            pruned = root / f".{entry.name}.pruned"
            entry.rename(pruned)
            fsync_dir(root)
            (exports / entry.name).unlink(missing_ok=True)
            done += _removed(pruned, f"removed the export files of {entry.name} {kept}")
        elif entry.is_symlink():
            entry.unlink()  # its versions folder went already
        elif entry.is_dir():  # a folder from before versioned exports
            done += _removed(entry, f"removed the export files of {entry.name} {kept}")
    return done


def kept_window(wh: Warehouse, keep_days: int | None) -> tuple[date, date] | None:
    """(first, last) day whose export files keep_export_days keeps: the keep_days up to the newest published
    day; None without the setting or a published day."""
    newest = wh.scalar("select max(as_of) from published.runs") if wh.table_exists("published.runs") else None
    if keep_days is None or newest is None:
        return None
    return newest - timedelta(days=keep_days - 1), newest


def outside_window(wh: Warehouse, as_of: date, keep_days: int | None) -> str | None:
    """Why as_of's export files are not written (a backfill of a day older than the days kept), or None."""
    window = kept_window(wh, keep_days)
    if window is None or as_of >= window[0]:
        return None
    return f"not written: keep_export_days keeps {keep_days} days up to {window[1]}, and {as_of} is older"


def _removed(folder: Path, line: str) -> list[str]:
    """Remove a folder; [line], or what could not be removed (the next prune tries again)."""
    failed: list[str] = []
    shutil.rmtree(folder, onerror=lambda _, path, error: failed.append(f"{path}: {error[1]}"))
    if failed:
        return [
            f"could not remove all of {folder.name}: {failed[0]} ({len(failed)} in all); the next publish tries again"
        ]
    return [line]


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
    source_ids: bool = False,
) -> PublishResult:
    """Write, audit and switch in the as_of's export version at once: for callers whose tables are committed.

    Layout: exports/<as_of> is a symbolic link to exports/.versions/<as_of>/<version>/. A reader sees
    the previous version or the new one, never a mix. The publish task instead calls prepare_exports
    inside its transaction and switch_exports after the commit.
    """
    result = prepare_exports(
        wh,
        exports,
        as_of,
        run_id,
        config_hash,
        report,
        html=html,
        destinations=destinations,
        pii=pii,
        source_ids=source_ids,
    )
    return switch_exports(exports, result)


def recover_exports(wh: Warehouse, exports: Path) -> list[str]:
    """Put right what killed publishes left in exports/; return what was done, one line each.

    Per day: the part files of a killed sharded publish (`.parts-<id>`) are removed; a `.<version>.tmp`
    folder is removed unless its publish committed (its version is the
    latest in published.runs and its manifest is there), then it is completed; a committed latest
    version the day's link does not point at is linked; temporary links are removed. Complete
    versions no publish recorded are left to the usual pruning.
    """
    root = exports / ".versions"
    if not root.is_dir():
        return []
    committed = committed_versions(wh)
    done = []
    for temp in sorted(exports.glob(".*.link")):
        temp.unlink(missing_ok=True)
        done.append(f"removed the unfinished link {temp.name}")
    for versions in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            as_of = date.fromisoformat(versions.name)
        except ValueError:
            continue
        latest = committed.get(as_of, (None, set()))[0]
        for folder in sorted(p for p in versions.iterdir() if p.name.startswith(".parts-")):
            shutil.rmtree(folder, ignore_errors=True)  # a killed sharded publish's part files
            done.append(f"removed the customer files' parts {versions.name}/{folder.name}")
        for folder in sorted(
            p for p in versions.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")
        ):
            version = folder.name[1:-4]
            if version == latest and (folder / "manifest.json").is_file():
                continue  # committed, killed before it was renamed: completed below
            shutil.rmtree(folder, ignore_errors=True)
            done.append(f"removed the unfinished export version {versions.name}/{version}")
        final = exports / versions.name
        current = final.resolve().name if final.is_symlink() else None
        if latest is None or current == latest:
            continue
        if building_folder(exports, as_of, latest).is_dir() or (versions / latest).is_dir():
            switched = switch_exports(exports, PublishResult(as_of, 0, str(final), version=latest))
            done += switched.moved_aside
            done.append(f"linked {versions.name} to its committed export version {latest}")
        else:
            done.append(
                f"{versions.name}: its committed export version {latest} is missing; publish the day again"
            )
    return done


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
    act: ActConfig | None = None,
    member_sources: list[str] | None = None,
    customer_parts: tuple[Path, int] | None = None,
    partial: bool = False,
    source_ids: bool = False,
) -> tuple[dict[str, dict[str, object]], int]:
    """Write the export files and the manifest (last) into folder; return file entries and the row count."""
    counts: dict[str, int | None] = {}
    if customer_parts is None:
        frame = wh.frame(customer_file_sql(wh, PUBLISHED, pii, source_ids=source_ids), {"as_of": as_of})
        # CSV for people: UTF-8 with a BOM so that Excel shows Chinese labels correctly.
        for name in ("customer_segments.parquet", "customer_segments.csv"):
            write_file(frame, folder / name)
            counts[name] = frame.height
    else:
        counts |= join_parts(*customer_parts, folder)
    customers = counts["customer_segments.parquet"] or 0
    size_frame = wh.frame(wh.model_sql("published/segment_sizes"), {"as_of": as_of})
    write_file(size_frame, folder / "segment_sizes.csv")
    counts["segment_sizes.csv"] = size_frame.height
    write_text(report, folder / "report.md")
    counts["report.md"] = None
    if html is not None:
        write_text(html, folder / "report.html")
        counts["report.html"] = None
    for destination in destinations:
        if destination.kind == "files":
            counts |= write_destination_files(wh, destination, folder, as_of, pii)
    if act is not None and act.enabled:
        counts |= write_outreach_files(wh, folder, as_of, act, member_sources or [], pii)
    files = {name: file_entry(folder / name, count) for name, count in counts.items()}
    manifest = {
        "as_of": as_of.isoformat(),
        "partial": partial,  # the day had not ended when the run started: a later run publishes it again
        "run_id": run_id,
        "config_hash": config_hash,
        "code_version": code_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "row_counts": {"customer_segments": customers, "segment_sizes": size_frame.height},
        "files": files,
    }
    # The manifest is the last file of a version: written after every other file is on disk.
    write_text(json.dumps(manifest, indent=2, ensure_ascii=False), folder / "manifest.json")
    fsync_dir(folder)
    return files, customers


def change_counts(wh: Warehouse, as_of: date) -> dict[str, dict[str, int]]:
    """Entered and exited customers per scheme on as_of."""
    counts: dict[str, dict[str, int]] = {}
    for scheme, change, n in wh.rows(wh.model_sql("published/segment_change_counts"), {"as_of": as_of}):
        counts.setdefault(scheme, {"entered": 0, "exited": 0})[change] = n
    return counts
