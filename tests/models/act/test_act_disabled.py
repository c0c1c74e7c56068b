"""The act stage switched off: its tables of the day are empty, and no evaluation of an earlier day is left."""

from __future__ import annotations

from tasks.act import TABLES, act_all, define_memberships, ensure_act_tables
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments


def test_act_disabled_empties_its_tables(wh: Warehouse, tmp_path) -> None:
    build_segments(wh, SEGMENTS_AS_OF)
    wh.execute("create schema if not exists act")
    wh.execute("create table act.lookalike_evaluation as select 'old' as lookalike")
    wh.execute("create table act.recommendation_evaluation as select 'old' as model")
    config = PipelineConfig.model_validate(
        {
            "warehouse": str(tmp_path / "w.duckdb"),
            "sources": [
                {
                    "name": "crm",
                    "kind": "customers",
                    "format": "csv",
                    "path": "x.csv",
                    "columns": {"source_id": "id"},
                }
            ],
            "act": {"enabled": False},
        }
    )
    assert act_all(wh, config, SEGMENTS_AS_OF) == {"enabled": False}
    assert {table: wh.count(table) for table in TABLES[1:]} == dict.fromkeys(TABLES[1:], 0)
    assert wh.count("act.segment_memberships") > 0  # who is in which segment is still known
    assert not wh.table_exists("act.lookalike_evaluation")
    assert not wh.table_exists("act.recommendation_evaluation")


def test_an_earlier_warehouse_s_memberships_table_is_replaced_by_the_view(wh: Warehouse) -> None:
    """act.segment_memberships is a view over the day's segments: the rows a table of them held, every day."""
    build_segments(wh, SEGMENTS_AS_OF)
    wh.execute("create schema if not exists act")
    wh.execute(
        "create table act.segment_memberships as select 'old' as scheme, 'old' as segment, 'X' as customer_id"
    )
    ensure_act_tables(wh)
    define_memberships(wh)
    assert "act.segment_memberships" not in wh.base_tables(["act"])
    rows = wh.rows("select * from act.segment_memberships order by all")
    assert rows == wh.rows(f"select * from ({wh.model_sql('act/segment_memberships')}) order by all")
    assert ("old", "old", "X") not in rows
    schemes = {scheme for scheme, _, _ in rows}
    assert {"rfm", "rfm_cn", "tier", "lifecycle"} <= schemes
    # the next day: the view reads that day's segments; ensuring the act tables again leaves it a view
    wh.execute("delete from segments.customer_segments where customer_id = ?", [rows[0][2]])
    ensure_act_tables(wh)
    define_memberships(wh)
    assert rows[0][2] not in {customer for _, _, customer in wh.rows("select * from act.segment_memberships")}
