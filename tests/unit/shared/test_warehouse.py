"""The Warehouse object: model templates filled from checked identifiers and code-built fragments, parameters bound."""

from pathlib import Path

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
