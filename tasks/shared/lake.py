"""The DuckLake backend: the warehouse as a DuckLake catalog in PostgreSQL, its tables as Parquet files.

A lake connection is an in-memory DuckDB database (temp tables and scratch work live there) with the lake
attached as `lake` and made the default catalog, so every model's `schema.table` names resolve in the lake
unchanged. Readers see the last committed snapshot while a run writes; a run's transaction commits as one
snapshot. The DuckLake and PostgreSQL extensions are DuckDB-signed builds from the package index, which has
them only for DuckDB 1.5.5 (envs/lake): they are loaded from their installed files, never downloaded.
"""

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from tasks.shared.warehouse import sql_literal

if TYPE_CHECKING:
    from tasks.shared.warehouse import Warehouse

LAKE = "lake"  # the catalog's name in a lake connection

EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}


class LakeUnavailableError(RuntimeError):
    """This environment cannot open a DuckLake warehouse (no signed extension build for its DuckDB)."""


def extension_file(name: str) -> Path:
    """The signed extension binary a `duckdb-extension-<name>` package installed for this DuckDB."""
    package = EXTENSIONS[name]
    spec = importlib.util.find_spec(package)
    version = duckdb.__version__
    if spec is None or not spec.submodule_search_locations:
        raise LakeUnavailableError(
            f"the ducklake warehouse needs the {name} extension (package {package.replace('_', '-')}), "
            f"not installed with DuckDB {version}: the package index has signed builds for DuckDB 1.5.5 only; "
            "run in the lake environment (make lake-env; envs/lake/.venv)"
        )
    path = (
        Path(spec.submodule_search_locations[0]) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    )
    if not path.is_file():
        raise LakeUnavailableError(
            f"{package.replace('_', '-')} has no build for DuckDB {version} (looked for {path}): "
            "install the extension package of the same version as duckdb"
        )
    return path


def unavailable() -> str | None:
    """Why this environment cannot open a lake (its DuckDB has no signed extension build), or None if it can."""
    try:
        for name in EXTENSIONS:
            extension_file(name)
    except LakeUnavailableError as error:
        return str(error)
    return None


def connect_lake(dsn: str, data_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the lake (catalog at dsn, Parquet under data_path) attached as the default."""
    files = [extension_file(name) for name in EXTENSIONS]
    if not read_only:
        data_path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        # what spills to disk goes beside the data folder, as a DuckDB file's <file>.tmp (an in-memory
        # database would spill into .tmp of the working directory)
        con.execute(f"set temp_directory = {sql_literal(str(data_path) + '.tmp')}")
        for file in files:
            con.execute(f"load {sql_literal(str(file))}")
        # Rows are never inlined into the PostgreSQL catalog: all table data is in Parquet files (an
        # erasure's compaction rewrites those; see tasks/erase/compact.py).
        options = [f"data_path {sql_literal(str(data_path) + '/')}", "data_inlining_row_limit 0"]
        if read_only:
            options.append("read_only")
        con.execute(f"attach {sql_literal('ducklake:postgres:' + dsn)} as {LAKE} ({', '.join(options)})")
        con.execute(f"use {LAKE}")
    except BaseException:
        con.close()
        raise
    return con


def maintain(wh: "Warehouse", snapshot_days: int) -> dict[str, int]:
    """Keep the lake's files to what it needs, at the start of a run (call with the warehouse lock held).

    Deletes the Parquet files no snapshot uses (a transaction that never committed: a run killed or failed
    mid-stage; with the lock held, every such file is a dead run's, or a shard's of a dead run still
    writing, whose commit then fails: tasks/shared/shards.py); expires the
    snapshots older than snapshot_days (time travel reaches that far back) and deletes the files only they
    used: a table a run replaces keeps its old files until then. Returns how many of each.
    """
    orphans = wh.rows(f"select path from ducklake_delete_orphaned_files('{LAKE}', cleanup_all => true)")
    expired = wh.rows(
        f"select snapshot_id from ducklake_expire_snapshots('{LAKE}', older_than => now() - to_days("
        f"{int(snapshot_days)}))"
    )
    old = wh.rows(f"select path from ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)")
    return {"orphaned files": len(orphans), "expired snapshots": len(expired), "old files": len(old)}
