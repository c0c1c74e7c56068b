"""The first publish into a fresh warehouse: the export holds the day's rows, not an empty file.

The defect this guards against (a 100,000-customer demo exported 0 of 111,359 published rows):
DuckDB 2.0 does not show a transaction the rows it batch-inserted (a parallel `insert ... select` of
at least 90% of a row group) into a table that the same transaction created by an empty
`create table ... as select ... limit 0`; `count(*)` reports them, scans return none. The published
tables were created that way inside the publish transaction, so on a fresh warehouse the export read
an empty table. Row groups of 2,048 rows (instead of 122,880) reproduce it with 3,000 customers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks.publish import publish_tables, write_exports
from tasks.shared.warehouse import SCHEMAS, Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments

COPIES = 1000  # of the three test customers: 3,000 rows, more than one 2,048-row row group


@pytest.fixture
def small_row_groups(tmp_path: Path) -> Iterator[Warehouse]:
    """A file warehouse with 2,048-row row groups, inserting with two threads (a batch insert is parallel)."""
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute(f"attach '{tmp_path / 'warehouse.duckdb'}' as warehouse (row_group_size 2048)")
    con.execute("use warehouse")
    for schema in SCHEMAS:
        con.execute(f"create schema {schema}")
    yield Warehouse(con)
    con.close()


def copy_customers(wh: Warehouse, copies: int) -> None:
    """segments.customer_segments with each of the three customers `copies` times (C1-0000 ...)."""
    wh.execute(
        "create or replace table segments.customer_segments as "
        "select s.* replace (s.customer_id || '-' || lpad(i::varchar, 4, '0') as customer_id) "
        "from segments.customer_segments s, range(?) r(i)",
        [copies],
    )


def test_the_first_publish_of_a_fresh_warehouse_exports_every_row(
    small_row_groups: Warehouse, tmp_path: Path
) -> None:
    wh = small_row_groups
    build_segments(wh, SEGMENTS_AS_OF)
    copy_customers(wh, COPIES)
    exports = tmp_path / "exports"

    # as the publish task does: tables and files in one transaction, files read inside it
    with wh.transaction():
        assert publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a") == 3000
        assert len(wh.rows("select customer_id from published.customer_segments")) == 3000
        result = write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "# report\n")

    folder = exports / "2026-03-31"
    assert result.rows == 3000
    assert pl.read_parquet(folder / "customer_segments.parquet").height == 3000
    assert pl.read_csv(folder / "customer_segments.csv", infer_schema=False).height == 3000
    assert pl.read_csv(folder / "segment_sizes.csv").rows() == [
        ("Champions", "冠军客户", 1000),
        ("Lost", "已流失客户", 1000),
        ("No Purchase", "未购买客户", 1000),
    ]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["row_counts"] == {"customer_segments": 3000, "segment_sizes": 3}
    # and after the commit, on the same connection
    assert len(wh.rows("select customer_id from published.customer_segments")) == 3000
    assert wh.rows("select rows from published.runs") == [(3000,)]
