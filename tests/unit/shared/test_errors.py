"""Which errors a stage task retries."""

from tasks.shared.errors import DataError, is_transient


def test_which_errors_are_retried() -> None:
    assert is_transient(OSError("disk hiccup"))
    assert is_transient(RuntimeError('IO Error: Could not set lock on file "w.duckdb"'))
    assert not is_transient(DataError("bad amount"))
    assert not is_transient(ValueError("a bug"))
