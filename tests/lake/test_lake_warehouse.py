"""The lake connection itself: names resolve in the lake from the connection and its scratch cursors, a
delete reports what it removed, a reader keeps its snapshot, and the main environment's refusal is clear."""

from pathlib import Path

import pytest

from tasks.shared.warehouse import Warehouse


@pytest.fixture
def lake(tmp_path: Path, lake_catalog: str) -> Warehouse:
    with Warehouse(":memory:", lake=(lake_catalog, tmp_path / "lake")) as wh:
        yield wh


def test_tables_are_parquet_files_in_the_lake(lake: Warehouse, tmp_path: Path) -> None:
    lake.execute("create table core.t as select range as id, 'x' || range as v from range(5)")
    assert lake.table_exists("core.t")
    assert lake.rows("select table_catalog from information_schema.tables where table_name = 't'") == [
        ("lake",)
    ]
    assert [p.parent.name for p in (tmp_path / "lake").rglob("*.parquet")] == ["t"]
    assert lake.scalar("select current_setting('temp_directory')") == str(tmp_path / "lake") + ".tmp"


def test_a_scratch_cursor_reads_the_lake(lake: Warehouse) -> None:
    lake.execute("create table core.t as select range as id from range(3)")
    with lake.scratch() as (scratch, _):
        assert scratch.rows("select id from core.t order by id") == [(0,), (1,), (2,)]
        assert scratch.lake


def test_delete_returning(lake: Warehouse) -> None:
    lake.execute("create table core.t as select range as id, range % 2 as odd from range(6)")
    assert sorted(lake.delete_returning("core.t", "odd = ?", [1], "id")) == [(1,), (3,), (5,)]
    assert lake.rows("select id from core.t order by id") == [(0,), (2,), (4,)]


def test_a_reader_keeps_the_last_committed_snapshot(
    lake: Warehouse, lake_catalog: str, tmp_path: Path
) -> None:
    lake.execute("create table published.t as select 1 as day")
    with Warehouse(":memory:", lake=(lake_catalog, tmp_path / "lake"), read_only=True) as reader:
        with lake.transaction():
            lake.execute("insert into published.t values (2)")
            assert lake.scalar("select count(*) from published.t") == 2
            assert reader.rows("select day from published.t") == [(1,)]  # not the open transaction's row
        assert reader.rows("select day from published.t order by day") == [(1,), (2,)]
        with pytest.raises(Exception, match="read.only|read-only"):
            reader.execute("insert into published.t values (3)")
