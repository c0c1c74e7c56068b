"""Erasing one person from the export files: every kept version rewritten without their rows."""

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tasks.shared.files import file_entry, fsync_dir, write_file, write_text


def erase_from_exports(exports: Path, customer_id: str) -> list[str]:
    """Rewrite every export file holding the person's rows without them; return the files rewritten."""
    rewritten: list[str] = []
    versions = exports / ".versions"
    if not versions.exists():
        return rewritten
    for manifest_path in sorted(versions.glob("*/*/manifest.json")):
        folder = manifest_path.parent
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        changed = False
        for name in list(manifest["files"]):
            path = folder / name
            if path.suffix not in (".csv", ".parquet"):
                continue
            frame = (
                pl.read_parquet(path)
                if path.suffix == ".parquet"
                else pl.read_csv(path, infer_schema=False, encoding="utf8")
            )
            frame = frame.rename({c: c.lstrip("\ufeff") for c in frame.columns})
            if "customer_id" not in frame.columns:
                continue
            kept = frame.filter(pl.col("customer_id") != customer_id)
            if kept.height == frame.height:
                continue
            write_file(kept, path)
            manifest["files"][name] = file_entry(path, kept.height)
            rewritten.append(str(path.relative_to(exports)))
            changed = True
            if name == "customer_segments.parquet":
                manifest["row_counts"]["customer_segments"] = kept.height
        if changed:
            manifest["erased_at"] = datetime.now(UTC).isoformat()
            write_text(json.dumps(manifest, indent=2, ensure_ascii=False), manifest_path)
            fsync_dir(folder)
    return rewritten
