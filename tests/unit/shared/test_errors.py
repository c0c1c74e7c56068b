"""Which errors a stage task retries."""

from pathlib import Path

import duckdb
import pytest

from tasks.shared.errors import DataError, is_transient


def test_which_errors_are_retried() -> None:
    assert is_transient(OSError("disk hiccup"))
    assert is_transient(RuntimeError('IO Error: Could not set lock on file "w.duckdb"'))
    assert not is_transient(DataError("bad amount"))
    assert not is_transient(ValueError("a bug"))


def test_a_damaged_warehouse_file_is_not_retried(tmp_path: Path) -> None:
    damaged = tmp_path / "warehouse.duckdb"
    damaged.write_bytes(b"not a database" * 1000)
    with pytest.raises(duckdb.Error, match="not a valid DuckDB database file") as raised:
        duckdb.connect(str(damaged))
    assert not is_transient(raised.value)
