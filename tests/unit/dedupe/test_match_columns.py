"""Match columns read from the raw rows: their values, and the rows where an expression fails, counted."""

from datetime import date
from pathlib import Path

import yaml

from tasks.dedupe import customer_match_records, dedupe_all, unreadable_match_columns
from tasks.extract import extract_all
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse

BANK = """id,name,booked,amount
a1,Ann Lee,2026-03-01,"¥1,000.00"
a2,Bo Chan,01/03/2026,12.50
a3,Cy Diaz,,7.00
a4,Di Eng,2026-03-04,oops
"""


def test_match_columns_are_read_and_failures_counted(tmp_path: Path) -> None:
    (tmp_path / "bank.csv").write_text(BANK, encoding="utf-8")
    (tmp_path / "crm.csv").write_text("id,name\nc1,Ann Lee\n", encoding="utf-8")
    config = {
        "warehouse": "w.duckdb",
        "timezone": "UTC",
        "sources": [
            {
                "name": "bank",
                "kind": "customers",
                "format": "csv",
                "path": "bank.csv",
                "columns": {"source_id": "id", "full_name": "name"},
                "match_columns": {"paid": "strptime(booked, '%Y-%m-%d')::date", "amount": "amount"},
            },
            {
                "name": "crm",
                "kind": "customers",
                "format": "csv",
                "path": "crm.csv",
                "columns": {"source_id": "id"},
            },
        ],
        "dedupe": {"comparisons": [{"name": "paid", "kind": "date"}, {"name": "amount", "kind": "numeric"}]},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    pipeline = load_config(tmp_path / "config.yaml")
    with Warehouse.open(pipeline) as wh:
        extract_all(wh, pipeline, "run-1")
        result = dedupe_all(wh, pipeline, date(2026, 11, 22))
        records = customer_match_records(wh, pipeline)
        # a2's date is in another layout than the strptime's: null, and counted (a3 has none: not counted)
        assert unreadable_match_columns(wh, pipeline) == {"bank.paid": 1}
    rows = records.select("record_source", "record_id", "paid", "amount").rows()
    assert rows == [
        ("bank", "a1", date(2026, 3, 1), "¥1,000.00"),
        ("bank", "a2", None, "12.50"),
        ("bank", "a3", None, "7.00"),
        ("bank", "a4", date(2026, 3, 4), "oops"),
        ("crm", "c1", None, None),  # a source without match columns
    ]
    # the expression's failure and the amount the numeric kind cannot read, both in the run's result
    assert result.unreadable_values == {"bank.paid": 1, "amount": 1}
