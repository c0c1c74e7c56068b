"""A DuckDB connection apart from the warehouse's, for questions whose failure must not end its transaction
(a file's header read without one, whether a type holds another's values, what an expression parses to)."""

import os
import threading

import duckdb

_lock = threading.Lock()
_databases: dict[int, duckdb.DuckDBPyConnection] = {}  # per process: a connection does not survive a fork


def scratch() -> duckdb.DuckDBPyConnection:
    """A new connection (close it: `with scratch() as con`) to this process's one in-memory database.

    Opening an in-memory database costs 15 ms on a quiet machine and 40-60 ms on busy cores (its worker threads
    start with it), a connection to an open one under 1 ms (BENCHMARKS.md, 2026-12-07 20:45). A database that an
    internal error invalidated (DuckDB then refuses every statement) is replaced, so that one bad file read
    here does not turn the questions of every later file into errors."""
    with _lock:
        database = _databases.get(os.getpid())
        if database is not None:
            con = database.cursor()
            try:
                con.execute("select 1").fetchall()
                return con
            except duckdb.Error:
                con.close()
        database = _databases[os.getpid()] = duckdb.connect()
        return database.cursor()
