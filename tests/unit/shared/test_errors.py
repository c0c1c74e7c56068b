"""Which errors a stage task retries."""

from pathlib import Path

import duckdb
import pytest

from tasks.shared.errors import DataError, is_damaged_file, is_transient


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


@pytest.mark.parametrize(
    ("message", "damaged"),
    [
        ('IO Error: The file "w.duckdb" exists, but it is not a valid DuckDB database file!', True),
        ('IO Error: Could not read enough bytes from file "w.duckdb": attempted to read 262144 bytes', True),
        (
            "Corrupt database file: computed checksum 1 does not match stored checksum 2 in block at location 3",
            True,
        ),
        ('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held', False),
        ('Binder Error: Referenced column "x" not found', False),
    ],
)
def test_a_damaged_file_is_known_by_duckdbs_words_and_not_retried(message: str, damaged: bool) -> None:
    assert is_damaged_file(duckdb.IOException(message)) is damaged
    assert is_transient(duckdb.IOException(message)) is not damaged
