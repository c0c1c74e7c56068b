"""After an erasure the warehouse file is rewritten with its live rows only: the erased values leave no bytes.

DuckDB marks deleted rows and frees their blocks without overwriting them, so the person's values
stay readable in the file until it is compacted (tasks/erase/compact.py, run by the erase flow).
"""

from __future__ import annotations

import logging
import shutil
import stat
from pathlib import Path

import duckdb
import pytest

from tasks.erase import erase_customer
from tasks.erase.compact import CompactError, compact_warehouse, finish_pending, mark_pending, unmark_pending
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.unit.erase.snapshot import warehouse_snapshot
from tests.unit.erase.world import A_MERGED

A_VALUES = ["王晓明", "13911110001", "a1@example.com", "wxm@example.com", "DEV-A-0001"]


def test_compacting_leaves_every_row_and_no_byte_of_the_erased_person(
    built_world: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "world"
    shutil.copytree(built_world, folder, symlinks=True)
    config = load_config(folder / "pipeline.yaml")
    with Warehouse.open(config) as wh:
        erase_customer(wh, config, A_MERGED)
        erased = warehouse_snapshot(wh)

    size = compact_warehouse(config.warehouse_path)

    assert size == config.warehouse_path.stat().st_size
    assert stat.S_IMODE(config.warehouse_path.stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir() if "compact" in p.name) == []
    data = config.warehouse_path.read_bytes()
    assert [v for v in A_VALUES if v.encode() in data] == []
    with Warehouse.open(config, read_only=True) as wh:
        assert warehouse_snapshot(wh) == erased
        assert wh.scalar("select count(*) from core.customer_id_redirects") == 3  # views are kept


def test_a_warehouse_with_changes_not_checkpointed_is_not_compacted(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    Warehouse(path).close()
    path.with_name(path.name + ".wal").write_bytes(b"")
    with pytest.raises(CompactError, match="not checkpointed"):
        compact_warehouse(path)


@pytest.mark.parametrize("checkpointed", [True, False])
def test_an_erasure_killed_before_its_compaction_is_compacted_by_the_next_run_that_takes_the_lock(
    built_world: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, checkpointed: bool
) -> None:
    # the erase flow marks the compaction pending before erasing; a SIGKILL after the erasure committed, while the
    # compacted copy was being written (or before the checkpoint: a write-ahead log left), leaves the marker, the
    # copy, and the person's values in the file
    folder = tmp_path / "world"
    shutil.copytree(built_world, folder, symlinks=True)
    config = load_config(folder / "pipeline.yaml")
    path = config.warehouse_path
    mark_pending(path, A_MERGED)
    with Warehouse.open(config) as wh:
        erase_customer(wh, config, A_MERGED)
        erased = warehouse_snapshot(wh)
    if not checkpointed:  # a commit the kill left in the write-ahead log, not yet in the file
        con = duckdb.connect(str(path))
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute("create table left_in_the_log as select 1 as n")
        con.close()
    assert path.with_name(path.name + ".wal").exists() is not checkpointed
    path.with_name(f".{path.name}.compact").write_bytes(b"half a copy")
    assert [v for v in A_VALUES if v.encode() in path.read_bytes()] != []  # why the compaction must happen

    with caplog.at_level(logging.INFO):
        size = finish_pending(config, logging.getLogger("test"))

    assert size == path.stat().st_size
    assert [r.getMessage() for r in caplog.records] == [
        f"the compaction after the erasure of {A_MERGED} did not finish: compacting the warehouse now",
        f"compacted {path}: {size} bytes",
    ]
    assert sorted(p.name for p in folder.iterdir() if "compact" in p.name or p.suffix == ".wal") == []
    assert [v for v in A_VALUES if v.encode() in path.read_bytes()] == []
    with Warehouse.open(config, read_only=True) as wh:
        compacted = warehouse_snapshot(wh)
    # the log's commit was checkpointed before the compaction, and kept by it
    assert (compacted.pop("main.left_in_the_log", None) is not None) is not checkpointed
    assert compacted == erased
    assert finish_pending(config, logging.getLogger("test")) is None  # nothing pending any more


def test_an_erasure_stopped_before_it_committed_is_named_to_run_again_and_nothing_is_compacted(
    built_world: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "world"
    shutil.copytree(built_world, folder, symlinks=True)
    config = load_config(folder / "pipeline.yaml")
    path = config.warehouse_path
    before = path.read_bytes()
    mark_pending(path, A_MERGED)  # then killed: the erasure's transaction rolled back
    mark_pending(path, "C0000000000000001")
    unmark_pending(path, "C0000000000000001")  # an id the erase flow refused

    with caplog.at_level(logging.INFO):
        assert finish_pending(config, logging.getLogger("test")) is None

    assert [r.getMessage() for r in caplog.records] == [
        f"the erasure of {A_MERGED} did not complete (stopped before it committed): nothing of it was removed; run "
        f"segments erase --config PATH --customer-id {A_MERGED} again"
    ]
    assert sorted(p.name for p in folder.iterdir() if "compact" in p.name) == []
    assert [v for v in A_VALUES if v.encode() in path.read_bytes()] == [
        v for v in A_VALUES if v.encode() in before
    ]
