"""Files the pipeline writes or fingerprints: written atomically (temp name, fsync, owner-only, rename), hashed in chunks."""

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import polars as pl

UTF8_BOM = b"\xef\xbb\xbf"


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: Path, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    """A handle on a temporary name next to path; on success: flushed, fsynced, 0600, renamed to path."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, mode, **kwargs) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def write_file(frame: pl.DataFrame, path: Path) -> None:
    """Write frame as CSV (UTF-8 with BOM, for Excel) or Parquet by suffix: temp name, fsync, 0600, rename."""
    if path.suffix not in (".csv", ".parquet"):
        raise ValueError(f"no writer for {path.name}")
    with atomic_write(path, "wb") as handle:
        if path.suffix == ".csv":
            handle.write(UTF8_BOM)
            frame.write_csv(handle)
        else:
            frame.write_parquet(handle)


def write_text(text: str, path: Path) -> None:
    """Write a text file the same way: temp name, fsync, 0600, rename."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def file_entry(path: Path, rows: int | None) -> dict[str, object]:
    """A manifest entry of a written file: rows (None for text), bytes and SHA-256."""
    return {"rows": rows, "bytes": path.stat().st_size, "sha256": file_hash(path)}
