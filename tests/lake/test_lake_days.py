"""A DuckLake warehouse publishes what a DuckDB file does, day after day, through the real flow.

Two warehouses see the same files: a DuckDB file and a lake (catalog in a real PostgreSQL, tables as
Parquet files). The sample day, then days with new, changed, late and merging records
(tests/daily_changes.py) run as the daily refresh runs them; after each day every table the
incremental-days test compares is equal between the two, and the lake's files are Parquet under its
data folder, the catalog in PostgreSQL.
"""

from datetime import timedelta
from pathlib import Path

from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END
from tests.daily_changes import write_day
from tests.e2e.test_incremental_days import differences, snapshot

DAYS = [SAMPLE_END + timedelta(days=1)]  # new, changed, late and merging records (daily_changes)


def test_lake_days_equal_a_file_warehouse(
    prefect_server: None, sample_copy: Path, make_config, make_lake_config
) -> None:
    file_config = make_config(sample_copy)
    lake_config = make_lake_config(sample_copy)

    lake_summary = daily_refresh(as_of=SAMPLE_END, config=str(lake_config))
    file_summary = daily_refresh(as_of=SAMPLE_END, config=str(file_config))
    assert lake_summary["dedupe"]["customers"] == file_summary["dedupe"]["customers"] > 0
    first = snapshot(lake_config, SAMPLE_END)
    assert [table for table, rows in first.items() if not rows] == []
    assert differences(first, snapshot(file_config, SAMPLE_END)) == {}

    for index, day in enumerate(DAYS, start=1):
        assert write_day(sample_copy, day, index) == {"game": 40, "payments": 26, "crm": 4}
        lake_day = daily_refresh(as_of=day, config=str(lake_config))
        daily_refresh(as_of=day, config=str(file_config))
        assert lake_day["dedupe"]["matcher_mode"] == "incremental"
        assert differences(snapshot(lake_config, day), snapshot(file_config, day)) == {}, day

    config = load_config(lake_config)
    assert not (config.base_dir / "warehouse.duckdb").exists()  # no DuckDB file: the lake holds it all
    tables = list(config.warehouse_path.glob("published/customer_segments/*.parquet"))
    assert tables, "published.customer_segments is Parquet files under the lake's data folder"
    with Warehouse.open(config, read_only=True) as wh:
        assert wh.lake
        published = wh.rows("select as_of, count(*) from published.customer_segments group by 1 order by 1")
        assert [day for day, _ in published] == [SAMPLE_END, *DAYS]
        runs = wh.rows("select as_of, rows from published.runs order by as_of")
        assert runs == published
        # a lake stores hugeints as doubles (rounded): no table may have one
        assert (
            wh.rows(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_catalog = 'lake' and data_type in ('HUGEINT', 'UHUGEINT')"
            )
            == []
        )
