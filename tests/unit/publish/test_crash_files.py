"""Export files written atomically: a write that fails or is interrupted leaves no temporary file, and a
full disk names the file and is not retried (tasks/shared/files.py)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import polars as pl
import pytest

from tasks.shared.errors import is_transient
from tasks.shared.files import write_file, write_text

FRAME = pl.DataFrame({"customer_id": [f"C{i}" for i in range(50_000)], "segment": ["Champions"] * 50_000})


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes to a temporary name go to /dev/full: every write fails with ENOSPC, as on a full disk."""
    real_open = os.open

    def open_(path: str | os.PathLike, flags: int, mode: int = 0o777, **kwargs: object) -> int:
        if str(path).endswith(".tmp"):
            os.close(real_open(path, flags, mode))  # the temporary name exists, as with a real write
            return real_open("/dev/full", os.O_WRONLY)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", open_)


@pytest.mark.parametrize("name", ["customer_segments.csv", "customer_segments.parquet", "report.md"])
def test_a_full_disk_names_the_file_is_not_retried_and_leaves_no_temporary_file(
    tmp_path: Path, full_disk: None, name: str
) -> None:
    path = tmp_path / name
    with pytest.raises(OSError) as caught:
        write_text("# 报告\n" * 10_000, path) if name.endswith(".md") else write_file(FRAME, path)
    assert caught.value.errno == errno.ENOSPC
    assert str(caught.value) == f"[Errno 28] No space left on device: '{path}'"
    assert not is_transient(caught.value)  # three more tries would fail the same way (42 s)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("interruption", [RuntimeError("the writer died"), KeyboardInterrupt()])
def test_an_interrupted_write_removes_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interruption: BaseException
) -> None:
    (tmp_path / "customer_segments.csv").write_text("the previous file\n", encoding="utf-8")

    def write_csv(self: pl.DataFrame, handle: object, **options: object) -> None:
        handle.write(b"customer_id\nC1\n")  # half a file under the temporary name
        raise interruption

    monkeypatch.setattr(pl.DataFrame, "write_csv", write_csv)
    with pytest.raises(type(interruption)):
        write_file(FRAME, tmp_path / "customer_segments.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customer_segments.csv"]
    assert (tmp_path / "customer_segments.csv").read_text(encoding="utf-8") == "the previous file\n"
