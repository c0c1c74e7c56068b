"""Erasing one person from the files next to the warehouse: every export version, and leftovers of crashed runs.

Export files: every version folder (exports/.versions/<as_of>/<version>, the unfinished `.<version>.tmp`
of a publish that crashed, and an exports/<as_of> folder from before versioned exports) is read file by
file; a CSV or Parquet file holding the person's rows is rewritten without them (atomically) and its
version's manifest updated. A row is the person's by its customer_id; in a file without one (a
destination that sends only, say, hashed emails) by an email, phone, device id, name or address only
the person's golden record has, as written or as its SHA-256. A file a crashed write left under its
temporary name (`.<name>.tmp`) is removed: nothing reads it, and it may be half written; so is the folder
of part files a killed sharded publish left (`.versions/<as_of>/.parts-<id>`).

Leftovers: the UTF-8 copies of source files an extract transcodes into `.extract-<run>/` next to the
warehouse are removed when a run dies before cleaning up. Erase holds the warehouse lock, so no run is
using them.
"""

import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tasks.shared.contracts import sha256_hex
from tasks.shared.files import file_entry, fsync_dir, write_file, write_text
from tasks.shared.lock import run_work_folders

TABLE_SUFFIXES = (".csv", ".parquet")


def version_folders(exports: Path) -> list[Path]:
    """Every folder holding one export version: kept, unfinished (.tmp), or from before versioned exports."""
    if not exports.is_dir():
        return []
    folders = [
        p
        for p in exports.glob(".versions/*/*")
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".parts-")
    ]
    folders += [
        p for p in exports.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    ]
    return sorted(folders)


def read_table(path: Path) -> pl.DataFrame:
    """An export file's rows (CSV cells as text, as written)."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    return frame.rename({c: c.lstrip("\ufeff") for c in frame.columns})


def person_rows(
    frame: pl.DataFrame, ids: Sequence[str], values: Mapping[str, Sequence[str]]
) -> pl.Expr | None:
    """An expression true on the person's rows of frame, or None when no column can tell."""
    if "customer_id" in frame.columns:
        return pl.col("customer_id").cast(pl.String).is_in(list(ids)).fill_null(False)
    tests = [
        pl.col(field).cast(pl.String).is_in([*found, *(sha256_hex(v) for v in found)])
        for field, found in values.items()
        if field in frame.columns and found
    ]
    if not tests:
        return None
    return pl.any_horizontal(tests).fill_null(False)


def erase_from_exports(
    exports: Path, ids: Sequence[str], values: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """Rewrite every export file holding the person's rows without them; return the files changed (relative)."""
    changed: list[str] = []
    for parts in sorted(exports.glob(".versions/*/.parts-*")) if exports.is_dir() else []:
        # a killed sharded publish's part files (tasks/publish/shards.py): scratch nothing reads, removed whole
        shutil.rmtree(parts, ignore_errors=True)
        changed.append(str(parts.relative_to(exports)))
    for folder in version_folders(exports):
        manifest_path = folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else None
        rewritten = False
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            name = path.relative_to(folder).as_posix()
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                path.unlink()  # a crashed atomic write's temporary file
                changed.append(str(path.relative_to(exports)))
                continue
            if path.suffix not in TABLE_SUFFIXES:
                continue
            frame = read_table(path)
            condition = person_rows(frame, ids, values or {})
            if condition is None:
                continue
            kept = frame.filter(~condition)
            if kept.height == frame.height:
                continue
            write_file(kept, path)
            changed.append(str(path.relative_to(exports)))
            rewritten = True
            if manifest is not None and name in manifest.get("files", {}):
                manifest["files"][name] = file_entry(path, kept.height)
                if name == "customer_segments.parquet":
                    manifest["row_counts"]["customer_segments"] = kept.height
        if rewritten and manifest is not None:
            manifest["erased_at"] = datetime.now(UTC).isoformat()
            write_text(json.dumps(manifest, indent=2, ensure_ascii=False), manifest_path)
        if rewritten:
            for directory in {path.parent for path in folder.rglob("*") if path.is_file()} | {folder}:
                fsync_dir(directory)
    return changed


def remove_run_leftovers(warehouse: Path) -> list[str]:
    """Remove the work folders crashed runs left beside the warehouse (tasks.shared.lock.run_work_folders:
    transcoded source files, the scratch folder's match keys); return their names. Unlike the lock holder's
    clean-up, a folder that cannot be removed is an error: an erasure must not leave the person behind."""
    removed = []
    for folder in run_work_folders(warehouse):
        shutil.rmtree(folder)
        removed.append(folder.name)
    return removed
