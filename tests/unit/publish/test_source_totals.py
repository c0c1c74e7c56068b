"""What the warehouse holds of each source, counted for the report whatever the run itself read."""

from tasks.extract.tables import create_staging_tables
from tasks.publish.report import quality_counts
from tasks.publish.source_totals import source_totals
from tasks.shared.warehouse import Warehouse

SOURCES = [("crm", "customers"), ("game", "events"), ("shop", "events"), ("pay", "transactions")]


def test_each_source_counted_from_the_staging_and_audit_tables() -> None:
    with Warehouse(":memory:") as wh:
        create_staging_tables(wh)
        for model in ("ops/load_state", "ops/quarantine", "ops/duplicates"):
            wh.ensure(model)
        for table, source, rows in (
            ("staging.customers", "crm", 4),
            ("staging.events", "game", 5),
            ("staging.events", "shop", 2),
            ("staging.unattributed_events", "game", 3),
            ("staging.transactions", "pay", 1),
            ("audit.load_state", "crm", 2),
            ("audit.load_state", "game", 3),
            ("audit.load_state", "pay", 1),
            ("audit.quarantine", "crm", 6),
            ("audit.quarantine", "pay", 1),
            ("audit.duplicates", "game", 2),
        ):
            wh.execute(f"insert into {table} (source) select ? from range(?)", [source, rows])
        totals = source_totals(wh, SOURCES)
    assert totals == [
        {"source": "crm", "kind": "customers", "files": 2, "rows_staged": 4, "rows_unattributed": 0,
         "rows_quarantined": 6, "duplicates_dropped": 0},
        {"source": "game", "kind": "events", "files": 3, "rows_staged": 8, "rows_unattributed": 3,
         "rows_quarantined": 0, "duplicates_dropped": 2},
        {"source": "shop", "kind": "events", "files": 0, "rows_staged": 2, "rows_unattributed": 0,
         "rows_quarantined": 0, "duplicates_dropped": 0},
        {"source": "pay", "kind": "transactions", "files": 1, "rows_staged": 1, "rows_unattributed": 0,
         "rows_quarantined": 1, "duplicates_dropped": 0},
    ]  # fmt: skip
    # the HTML report's data-quality chart reads the same totals, not what the run read (here: nothing)
    this_run = [{"source": s, "rows_quarantined": 0, "duplicates_dropped": 0} for s, _ in SOURCES]
    assert quality_counts({"extract": this_run, "sources_kept": totals}) == [
        ("crm", 6, 0),
        ("game", 0, 2),
        ("shop", 0, 0),
        ("pay", 1, 0),
    ]
    assert quality_counts({"extract": this_run}) == [(s, 0, 0) for s, _ in SOURCES]


def test_a_warehouse_before_any_load_counts_nothing() -> None:
    with Warehouse(":memory:") as wh:
        assert source_totals(wh, [("crm", "customers")]) == [
            {"source": "crm", "kind": "customers", "files": 0, "rows_staged": 0, "rows_unattributed": 0,
             "rows_quarantined": 0, "duplicates_dropped": 0}
        ]  # fmt: skip
