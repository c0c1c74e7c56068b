"""The act stage switched off: its tables of the day are empty, and no evaluation of an earlier day is left."""

from __future__ import annotations

from tasks.act import TABLES, act_all
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
