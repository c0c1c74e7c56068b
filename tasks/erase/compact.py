"""Compacting the warehouse file after an erasure, so that deleted rows leave no bytes behind.

DuckDB marks deleted rows and frees blocks, but does not overwrite them: an erased person's values
stay in the file until their blocks happen to be reused, readable to anyone who reads the file.
The file is rewritten with its live rows only (COPY FROM DATABASE into a new file beside it, every
schema, table and view) and swapped in with one atomic rename. The caller holds the warehouse lock
and has closed its own connection (checkpointed: no write-ahead log is left); a reader that has the
old file open keeps reading it until it reconnects.
"""

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.shared.files import fsync_dir
from tasks.shared.lake import LAKE, maintain
from tasks.shared.warehouse import Warehouse, sql_literal

if TYPE_CHECKING:
    from tasks.shared.config import PipelineConfig


class CompactError(RuntimeError):
    """The warehouse file could not be compacted (the erasure itself is done and recorded)."""


def pending_marker(warehouse: Path) -> Path:
    """The file that says an erasure's compaction is still to do, one line per erased customer id: written before
    the erasure, removed once the file is compacted, so that a process killed in between (no exception to clean up
    after) leaves it behind. An erasure with compact=false leaves it for the last one of its batch, or the next
    refresh, to compact."""
    return warehouse.with_name(f".{warehouse.name}.compact-pending")


def mark_pending(warehouse: Path, customer_id: str) -> None:
    """Add an erasure to the pending marker (durably: it must outlive a kill of the erasure that follows)."""
    marker = pending_marker(warehouse)
    with marker.open("a", encoding="utf-8") as handle:
        handle.write(customer_id + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(marker.parent)


def unmark_pending(warehouse: Path, customer_id: str) -> None:
    """Take an erasure that removed nothing (its id was refused) off the pending marker."""
    marker = pending_marker(warehouse)
    if not marker.exists():
        return
    kept = [line for line in marker.read_text(encoding="utf-8").split() if line != customer_id]
    if kept:
        marker.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    else:
        marker.unlink()


def compact_store(config: "PipelineConfig") -> int:
    """Compact the warehouse (a file or a lake) and clear the pending marker; return its bytes."""
    path = config.warehouse_path
    size = compact_lake(config) if config.lake is not None else compact_warehouse(path, config.memory_limit)
    pending_marker(path).unlink(missing_ok=True)
    return size


def finish_pending(config: "PipelineConfig", logger: logging.Logger | logging.LoggerAdapter) -> int | None:
    """Compact the warehouse when an erasure's compaction did not happen (its process was killed, or it was one of
    a batch with compact=false whose last erasure never ran): until then the erased values are still in unused
    blocks of the file. An erasure the marker names that audit.erasures does not record was stopped before it
    committed: nothing of it was removed, and the log says to run it again. Call with the warehouse lock held and no
    connection open (the warehouse is opened once first: a write-ahead log a killed erasure left is checkpointed).
    Returns the compacted size, or None when nothing was compacted."""
    marker = pending_marker(config.warehouse_path)
    if not marker.exists():
        return None
    pending = list(dict.fromkeys(marker.read_text(encoding="utf-8", errors="replace").split()))
    with Warehouse.open(config) as wh:
        recorded = wh.table_exists("audit.erasures")
        erased = "select distinct customer_id from audit.erasures where list_contains(?, customer_id)"
        found = {customer_id for (customer_id,) in wh.rows(erased, [pending])} if recorded else set()
    done = [customer_id for customer_id in pending if customer_id in found]
    for customer_id in pending:
        if customer_id not in done:
            logger.warning(
                "the erasure of %s did not complete (stopped before it committed): nothing of it was removed; run "
                "segments erase --config PATH --customer-id %s again",
                customer_id,
                customer_id,
            )
    if not done:
        marker.unlink()
        return None
    logger.warning(
        "the compaction after the erasure of %s did not finish: compacting the warehouse now", ", ".join(done)
    )
    size = compact_store(config)
    logger.info("compacted %s: %d bytes", config.warehouse_path, size)
    return size


def compact_warehouse(path: Path, memory_limit: str | None = None) -> int:
    """Rewrite the warehouse file with its live rows only, atomically; return the new file's size in bytes.

    memory_limit: DuckDB's memory limit while copying (the pipeline config's, checked there).
    """
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        raise CompactError(f"{wal} exists: the warehouse has changes that are not checkpointed")
    target = path.with_name(f".{path.name}.compact")
    spill = path.with_name(f".{path.name}.compact.tmp")
    for leftover in (target, target.with_name(target.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        with Warehouse(":memory:") as wh:
            wh.execute(f"set temp_directory = {sql_literal(str(spill))}")
            if memory_limit:
                wh.execute(f"set memory_limit = '{memory_limit}'")
            wh.execute(f"attach {sql_literal(str(path))} as erased_from (read_only)")
            wh.execute(f"attach {sql_literal(str(target))} as compacted")
            wh.execute("copy from database erased_from to compacted")
            wh.execute("detach compacted")
            wh.execute("detach erased_from")
        os.chmod(target, 0o600)  # personal data: the owner's only, as the warehouse
        with target.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(target, path)
        fsync_dir(path.parent)
    except Exception as error:
        target.unlink(missing_ok=True)
        raise CompactError(
            f"the erasure is done, but compacting {path} failed ({error}); erased values stay in unused "
            "blocks of the file until it is compacted: run the erase again (it removes nothing more and compacts)"
        ) from error
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    return path.stat().st_size


def compact_lake(config: "PipelineConfig") -> int:
    """After an erasure on a DuckLake warehouse, leave no erased value in its files; return the data folder's bytes.

    A lake keeps deleted rows in their Parquet files (a delete file masks them) and keeps older snapshots'
    files for time travel. Every table's files are rewritten without their deleted rows, then the lake is
    maintained with no snapshot days (tasks.shared.lake.maintain): every snapshot but the newest expires,
    and the files no snapshot uses any more (and any a killed run left) are deleted. The catalog's own rows
    (file statistics hold column minima and maxima) are then vacuumed in PostgreSQL, so their old versions
    go too.
    """
    lake = config.lake
    assert lake is not None, "compact_lake needs a DuckLake warehouse"
    try:
        with Warehouse.open(config) as wh:
            wh.execute(f"call ducklake_flush_inlined_data('{LAKE}')")
            wh.execute(f"call ducklake_rewrite_data_files('{LAKE}', delete_threshold => 0)")
            maintain(wh, 0)
        import adbc_driver_postgresql.dbapi as adbc

        with adbc.connect(lake.dsn(), autocommit=True) as con, con.cursor() as cursor:
            cursor.execute("vacuum full")
    except Exception as error:
        raise CompactError(
            f"the erasure is done, but compacting the lake {config.warehouse_path} failed ({error}); erased "
            "values stay in its older files until it is compacted: run the erase again (it removes nothing "
            "more and compacts)"
        ) from error
    return sum(file.stat().st_size for file in config.warehouse_path.rglob("*") if file.is_file())
