"""The Warehouse object: model templates filled from checked identifiers and code-built fragments, parameters bound."""

from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks.shared import warehouse as warehouse_module
from tasks.shared.warehouse import Warehouse

TEMPLATE = """-- Header: {{table}} names the table; $limit bounds the rows.
-- Grain: one row per value.
select {{columns}}
from {{table}}
where {{condition}}
order by 1
limit $limit
"""


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private sql/ folder with one template model, test/values.sql."""
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "values.sql").write_text(TEMPLATE, encoding="utf-8")
    monkeypatch.setattr(warehouse_module, "SQL_DIR", tmp_path)
    return tmp_path


def test_placeholders_are_filled_outside_comment_lines_only(wh: Warehouse, models: Path) -> None:
    sql = wh.model_sql(
        "test/values",
        identifiers={"table": "core.t", "columns": ["a", "b"]},
        fragments={"condition": "a > 1\n    and b is not null"},
    )
    assert sql.splitlines() == [
        "-- Header: {{table}} names the table; $limit bounds the rows.",
        "-- Grain: one row per value.",
        "select a, b",
        "from core.t",
        "where a > 1",
        "    and b is not null",
        "order by 1",
        "limit $limit",
    ]


def test_a_filled_in_fragment_is_not_read_again_as_a_template(wh: Warehouse, models: Path) -> None:
    sql = wh.model_sql(
        "test/values", identifiers={"table": "t", "columns": "a"}, fragments={"condition": "a <> '{{table}}'"}
    )
    assert "where a <> '{{table}}'" in sql


def test_an_identifier_that_is_not_plain_is_refused(wh: Warehouse, models: Path) -> None:
    with pytest.raises(ValueError, match="not a safe table name: 't; drop table x'"):
        wh.model_sql("test/values", identifiers={"table": "t; drop table x", "columns": "a"})


def test_an_unfilled_placeholder_is_an_error(wh: Warehouse, models: Path) -> None:
    with pytest.raises(
        ValueError, match=r"SQL model 'test/values' has an unfilled placeholder \{\{condition\}\}"
    ):
        wh.model_sql("test/values", identifiers={"table": "t", "columns": "a"})


def test_only_parameters_the_code_uses_are_bound(wh: Warehouse, models: Path) -> None:
    wh.execute("create table main.t (a integer, b varchar)")
    wh.execute("insert into main.t values (1, 'x'), (2, 'y'), (3, null), (4, 'z')")
    sql = wh.model_sql(
        "test/values",
        identifiers={"table": "main.t", "columns": ["a", "b"]},
        fragments={"condition": "a > $low"},
    )
    # $limit is mentioned in the header and used; $low is used; $unused is dropped, not an error
    assert wh.rows(sql, {"limit": 2, "low": 1, "unused": 0}) == [(2, "y"), (3, None)]


def test_build_insert_and_ensure_run_model_files(wh: Warehouse, models: Path) -> None:
    (models / "test" / "table.sql").write_text(
        "-- Table: main.kept\n-- Grain: one row per value.\ncreate table if not exists main.kept (a integer)\n"
    )
    (models / "test" / "rows.sql").write_text("-- Grain: one row per value.\nselect unnest([1, 2, 3]) as a\n")
    wh.ensure("test/table")
    wh.ensure("test/table")  # idempotent
    assert wh.insert("main.kept", "test/rows") == 3
    assert wh.build("main.copy", "test/rows") == 3
    assert wh.rows("select sum(a) from main.kept") == [(6,)]


def test_a_scratch_hands_over_parquet_files_and_its_folders_go(tmp_path: Path, models: Path) -> None:
    (models / "test" / "squares.sql").write_text(
        "-- Grain: one row per value.\nselect a, a * a as b from _numbers\n"
    )
    leftover = tmp_path / "warehouse.duckdb.scratch" / "scratch-killed"
    leftover.mkdir(parents=True)
    (leftover / "keys.parquet").write_bytes(b"a killed run's file")
    with Warehouse(tmp_path / "warehouse.duckdb") as wh, wh.transaction():
        with wh.scratch() as (scratch, folder):
            assert folder.parent == tmp_path / "warehouse.duckdb.scratch"
            assert not leftover.exists()  # a killed run's folder goes when the first scratch opens
            assert folder.stat().st_mode & 0o777 == 0o700
            with wh.scratch() as (inner, inner_folder):  # a nested scratch leaves the outer one's folder
                assert inner_folder.parent == folder.parent and inner_folder != folder
            assert folder.is_dir()
            scratch.execute("create temp table _numbers as select range as a from range(4)")
            scratch.copy_model(folder / "squares.parquet", "test/squares")
            scratch.execute("drop table _numbers")
            # the scratch's temp tables are its own: the transaction sees none of them
            assert wh.rows("select count(*) from duckdb_tables() where table_name = '_numbers'") == [(0,)]
            wh.parquet_view("_squares", folder / "squares.parquet")
            wh.execute("create table main.squares as select * from _squares")
            wh.execute("drop view _squares")
        assert not (tmp_path / "warehouse.duckdb.scratch").exists()
    with Warehouse(tmp_path / "warehouse.duckdb", read_only=True) as wh:
        assert wh.rows("select a, b from main.squares order by a") == [(0, 0), (1, 1), (2, 4), (3, 9)]


def test_a_failure_with_a_frame_registered_in_a_transaction_is_the_error_raised(wh: Warehouse) -> None:
    # DuckDB refuses the unregister after a failed statement in a transaction: the failure itself propagates
    with (
        pytest.raises(duckdb.CatalogException, match="no_such_table"),
        wh.transaction(),
        wh.registered("_rows", pl.DataFrame({"a": [1, 2]})),
    ):
        wh.execute("insert into main.no_such_table select * from _rows")
    with pytest.raises(duckdb.CatalogException, match="no_such_schema"), wh.transaction():
        wh.write_frame("no_such_schema.t", pl.DataFrame({"a": [1]}))
    with wh.registered("_rows", pl.DataFrame({"a": [1, 2]})):
        assert wh.rows("select sum(a) from _rows") == [(3,)]
    with pytest.raises(duckdb.CatalogException):
        wh.rows("select * from _rows")  # gone after the block
