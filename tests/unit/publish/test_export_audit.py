"""The export audit: a version whose files, read back, do not hold the day's published rows never goes live."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from tasks.publish import publish_tables, write_exports
from tasks.publish.audits import audit_exports, file_rows
from tasks.shared.errors import DataError
from tasks.shared.files import write_file
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments

DAY = SEGMENTS_AS_OF.isoformat()


def dropping(name: str, keep: int) -> Callable[[pl.DataFrame, Path], None]:
    """A file writer that writes only the first `keep` rows of the file called name."""

    def write(frame: pl.DataFrame, path: Path) -> None:
        write_file(frame.head(keep) if path.name == name else frame, path)

    return write


def live(exports: Path) -> tuple[str, dict[str, bytes]]:
    """The version exports/<day> points at, and its files' bytes."""
    folder = exports / DAY
    return folder.resolve().name, {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def published_once(wh: Warehouse, tmp_path: Path) -> Path:
    """Day SEGMENTS_AS_OF published by run-1 (three customers), its export live; returns the exports folder."""
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    return exports


def test_file_rows_reads_the_rows_back_from_csv_and_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "note": ["a,b", "two\nlines", None]})
    write_file(frame, tmp_path / "x.csv")
    write_file(frame, tmp_path / "x.parquet")
    write_file(frame.head(0), tmp_path / "empty.csv")
    assert file_rows(tmp_path / "x.csv") == 3  # a quoted newline is not a row
    assert file_rows(tmp_path / "x.parquet") == 3
    assert file_rows(tmp_path / "empty.csv") == 0  # the header only


@pytest.mark.parametrize(
    ("name", "keep", "problem"),
    [
        (
            "customer_segments.csv",
            2,
            "customer_segments.csv holds 2 rows, published.customer_segments 3 rows of that day",
        ),
        (
            "customer_segments.parquet",
            0,
            "customer_segments.parquet holds 0 rows, published.customer_segments 3 rows of that day",
        ),
        (
            "segment_sizes.csv",
            1,
            "segment_sizes.csv counts 1 customers, published.customer_segments 3 rows of that day",
        ),
    ],
)
def test_a_writer_that_drops_rows_fails_the_publish_and_the_previous_export_stays_live(
    wh: Warehouse,
    published_once: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    keep: int,
    problem: str,
) -> None:
    exports = published_once
    before = live(exports)
    monkeypatch.setattr("tasks.publish.exports.write_file", dropping(name, keep))

    with pytest.raises(DataError) as failure:
        write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-a", "second\n")

    assert str(failure.value) == (
        f"export audit of 2026-03-31 failed, the previous export version stays live:\n  {problem}"
    )
    assert live(exports) == before
    assert json.loads(before[1]["manifest.json"])["run_id"] == "run-1"
    assert sorted(p.name for p in (exports / ".versions" / DAY).iterdir()) == [before[0]]  # no temp folder


def test_a_failed_audit_inside_the_publish_transaction_keeps_the_tables_of_the_previous_run(
    wh: Warehouse, published_once: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = published_once
    before = live(exports)
    monkeypatch.setattr("tasks.publish.exports.write_file", dropping("customer_segments.csv", 0))
    expected = "customer_segments.csv holds 0 rows, published.customer_segments 3 rows"
    with pytest.raises(DataError, match=expected), wh.transaction():  # as the publish task does
        publish_tables(wh, SEGMENTS_AS_OF, "run-2", "hash-a")
        write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-a", "second\n")
    assert wh.rows("select distinct run_id from published.customer_segments") == [("run-1",)]
    assert wh.rows("select run_id, rows from published.runs") == [("run-1", 3)]
    assert live(exports) == before


def test_an_empty_publish_of_a_day_with_customers_fails(wh: Warehouse, published_once: Path) -> None:
    exports = published_once
    before = live(exports)
    wh.execute("delete from published.customer_segments")  # what the export read on the fresh 100k warehouse
    with pytest.raises(DataError) as failure:
        write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-a", "second\n")
    assert str(failure.value) == (
        "export audit of 2026-03-31 failed, the previous export version stays live:\n"
        "  published.customer_segments has 0 rows of a day with 3 customers"
    )
    assert live(exports) == before


def test_a_day_without_customers_may_publish_empty_files(wh: Warehouse, tmp_path: Path) -> None:
    build_segments(wh, SEGMENTS_AS_OF)
    wh.execute("delete from segments.customer_segments")
    assert publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a") == 0
    result = write_exports(wh, tmp_path / "exports", SEGMENTS_AS_OF, "run-1", "hash-a", "empty\n")
    assert result.rows == 0
    assert file_rows(tmp_path / "exports" / DAY / "customer_segments.csv") == 0


def test_the_audit_returns_the_published_rows_it_checked(wh: Warehouse, published_once: Path) -> None:
    assert audit_exports(wh, SEGMENTS_AS_OF, published_once / DAY) == 3
