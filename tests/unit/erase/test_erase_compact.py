"""After an erasure the warehouse file is rewritten with its live rows only: the erased values leave no bytes.

DuckDB marks deleted rows and frees their blocks without overwriting them, so the person's values
stay readable in the file until it is compacted (tasks/erase/compact.py, run by the erase flow).
"""

from __future__ import annotations

import logging
import shutil
import stat
from pathlib import Path

import pytest

from tasks.erase import erase_customer
from tasks.erase.compact import CompactError, compact_warehouse, finish_pending, mark_pending
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


def test_an_erasure_killed_before_its_compaction_is_compacted_by_the_next_run_that_takes_the_lock(
    built_world: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # the erase flow marks the compaction pending before erasing; a SIGKILL after the erasure committed, while
    # the compacted copy was being written, leaves the marker, the copy, and the person's values in the file
    folder = tmp_path / "world"
    shutil.copytree(built_world, folder, symlinks=True)
    config = load_config(folder / "pipeline.yaml")
    path = config.warehouse_path
    mark_pending(path, f"erase-customer {A_MERGED}")
    with Warehouse.open(config) as wh:
        erase_customer(wh, config, A_MERGED)
        erased = warehouse_snapshot(wh)
    path.with_name(f".{path.name}.compact").write_bytes(b"half a copy")
    assert [v for v in A_VALUES if v.encode() in path.read_bytes()] != []  # why the compaction must happen

    with caplog.at_level(logging.INFO):
        size = finish_pending(config, logging.getLogger("test"))

    assert size == path.stat().st_size
    assert [r.getMessage() for r in caplog.records] == [
        f"the compaction after an erasure did not finish (erase-customer {A_MERGED}): compacting the warehouse now",
        f"compacted {path}: {size} bytes",
    ]
    assert sorted(p.name for p in folder.iterdir() if "compact" in p.name) == []  # the marker and the copy
    assert [v for v in A_VALUES if v.encode() in path.read_bytes()] == []
    with Warehouse.open(config, read_only=True) as wh:
        assert warehouse_snapshot(wh) == erased
    assert finish_pending(config, logging.getLogger("test")) is None  # nothing pending any more
