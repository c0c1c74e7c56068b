"""The warehouse backend of the tests' configs: SEGMENTS_TEST_BACKEND=file (a DuckDB file, the default) or lake.

Under lake (the lake environment: make test-lake-all), every config a test writes without naming a warehouse
gets a new DuckLake: its own catalog database on this test process's PostgreSQL server and its Parquet files
in the config's work folder. The catalog's URI is in an environment variable of its own, which processes the
test starts inherit.
"""

import atexit
import itertools
import os
from contextlib import ExitStack
from pathlib import Path

from bench.postgres import create_database, temporary_postgres

BACKEND = os.environ.get("SEGMENTS_TEST_BACKEND", "file")
if BACKEND not in ("file", "lake"):
    raise ValueError(f"SEGMENTS_TEST_BACKEND must be file or lake, not {BACKEND!r}")

_lake_numbers = itertools.count()
_lake_servers: list[str] = []


def default_warehouse(work_dir: Path) -> str | dict:
    """The warehouse of a test config in work_dir: a DuckDB file, or a new lake under SEGMENTS_TEST_BACKEND=lake."""
    if BACKEND != "lake":
        return str(work_dir / "warehouse.duckdb")
    variable = f"SEGMENTS_TEST_LAKE_{os.getpid()}_{next(_lake_numbers)}"
    os.environ[variable] = create_database(_lake_server(), variable.lower())
    return {"ducklake": {"catalog": {"dsn_env": variable}, "data_path": str(work_dir / "lake")}}


def _lake_server() -> str:
    """The PostgreSQL server of this test process's lake catalogs, started on first use, stopped at exit."""
    if not _lake_servers:
        stack = ExitStack()
        atexit.register(stack.close)
        _lake_servers.append(stack.enter_context(temporary_postgres(prefix="segments-lake-pg-")))
    return _lake_servers[0]
