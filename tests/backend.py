"""The warehouse backend of the tests' configs: SEGMENTS_TEST_BACKEND=file (a DuckDB file, the default) or lake.

Under lake (the lake environment: make test-lake-all), every config a test writes without naming a warehouse
gets a new DuckLake: its own catalog database on this test process's PostgreSQL server and its Parquet files
in the config's work folder. The catalogs' URIs are in environment variables set when this module is imported
(SEGMENTS_TEST_LAKE_<worker>_<n>, each naming a database made when a config first takes it), so every
process a test starts has them, a fork server started early or an environment copied at import included.
"""

import atexit
import itertools
import os
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from bench.postgres import create_database, temporary_postgres

if TYPE_CHECKING:
    from tasks.shared.config import PipelineConfig

BACKEND = os.environ.get("SEGMENTS_TEST_BACKEND", "file")
if BACKEND not in ("file", "lake"):
    raise ValueError(f"SEGMENTS_TEST_BACKEND must be file or lake, not {BACKEND!r}")
LAKES = 1000  # lake configs one test process can write
# Per pytest process (each xdist worker its own server and names); a process it starts (a fork server, a CLI)
# imports this module again and finds its parent's server in OWNER.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
VARIABLE = f"SEGMENTS_TEST_LAKE_{WORKER}_{{}}"
OWNER = f"SEGMENTS_TEST_LAKE_{WORKER}_SERVER"

_lake_numbers = itertools.count()
_server = os.environ.get(OWNER, "")
if BACKEND == "lake" and not _server:
    _servers = ExitStack()
    atexit.register(_servers.close)
    _server = _servers.enter_context(temporary_postgres(prefix="segments-lake-pg-"))
    os.environ[OWNER] = _server
    for _n in range(LAKES):
        os.environ[VARIABLE.format(_n)] = _server.rsplit("/", 1)[0] + f"/test_lake_{_n}"


def default_warehouse(work_dir: Path) -> str | dict:
    """The warehouse of a test config in work_dir: a DuckDB file, or a new lake under SEGMENTS_TEST_BACKEND=lake."""
    if BACKEND != "lake":
        return str(work_dir / "warehouse.duckdb")
    number = next(_lake_numbers)
    if number >= LAKES:
        raise RuntimeError(
            f"this test process wrote more than {LAKES} lake configs: raise tests/backend.py LAKES"
        )
    create_database(_server, f"test_lake_{number}")
    return {
        "ducklake": {"catalog": {"dsn_env": VARIABLE.format(number)}, "data_path": str(work_dir / "lake")}
    }


def copy_warehouse(source: "PipelineConfig", target: "PipelineConfig") -> None:
    """Copy source's warehouse (closed) over target's: the DuckDB file, or every schema, table and view of
    the lake (the target lake's tables and views dropped, then COPY FROM DATABASE)."""
    from tasks.shared.warehouse import Warehouse, quote_identifier, sql_literal

    if source.lake is None:
        shutil.copyfile(source.warehouse_path, target.warehouse_path)
        return
    data_path = sql_literal(str(source.warehouse_path) + "/")
    with Warehouse.open(target) as wh:
        wh.execute(
            f"attach {sql_literal('ducklake:postgres:' + source.lake.dsn())} as source_lake "
            f"(data_path {data_path}, read_only)"
        )
        for schema, name, kind in wh.rows(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = 'lake' order by table_type = 'VIEW' desc"
        ):
            relation = quote_identifier(f"{schema}.{name}")
            wh.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {relation}")
        schemas = wh.rows(
            "select schema_name from information_schema.schemata where catalog_name = 'source_lake' "
            "and schema_name not in ('main', 'information_schema', 'pg_catalog')"
        )
        for (schema,) in schemas:
            wh.execute(f"create schema if not exists {quote_identifier(schema)}")
        wh.execute("copy from database source_lake to lake")
        wh.execute("detach source_lake")


def stored_bytes(config: "PipelineConfig") -> bytes:
    """What the warehouse stores, to search for values that must be gone: the DuckDB file's bytes, or every
    row of every Parquet file of the lake as text (its files are compressed; a row's text holds its values)."""
    import duckdb

    if config.lake is None:
        return config.warehouse_path.read_bytes()
    texts = []
    with duckdb.connect() as con:
        for file in sorted(config.warehouse_path.rglob("*.parquet")):
            rows = con.execute("select cast(t as varchar) from read_parquet(?) as t", [str(file)]).fetchall()
            texts += [row[0] for row in rows]
    return "\n".join(texts).encode()
