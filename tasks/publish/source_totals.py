"""What the warehouse holds of each source after a run, over every load kept: the report's "in the warehouse"
table and its data-quality chart.

A run's own counts (summary["extract"]) are what that run read: a rerun of a day that finds nothing new reads
0 rows. These totals are the same for it as for the run that loaded the files.
"""

from typing import Any

from tasks.extract.tables import staging_tables
from tasks.shared.warehouse import Warehouse

# audit tables counted per source: (table, the key of its count)
AUDIT_COUNTS = (
    ("audit.load_state", "files"),
    ("audit.quarantine", "rows_quarantined"),
    ("audit.duplicates", "duplicates_dropped"),
)


def per_source(wh: Warehouse, table: str) -> dict[str, int]:
    """Rows of a warehouse table per source (empty when the table does not exist); table from a fixed list."""
    if not wh.table_exists(table):
        return {}
    return dict(wh.rows(f"select source, count(*) from {table} group by all"))


def source_totals(wh: Warehouse, sources: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per (source, kind), in the order given: files (or database batches) loaded, rows staged (of them
    unattributed: no customer reference), rows quarantined and raw rows dropped as duplicates."""
    counts = {key: per_source(wh, table) for table, key in AUDIT_COUNTS}
    # per kind: its staging table's rows per source, and its unattributed rows' (none for customers)
    staged = {
        kind: [per_source(wh, table) for table in staging_tables(kind)] for kind in {k for _, k in sources}
    }
    return [
        {
            "source": source,
            "kind": kind,
            "files": counts["files"].get(source, 0),
            "rows_staged": sum(table.get(source, 0) for table in staged[kind]),
            "rows_unattributed": sum(table.get(source, 0) for table in staged[kind][1:]),
            "rows_quarantined": counts["rows_quarantined"].get(source, 0),
            "duplicates_dropped": counts["duplicates_dropped"].get(source, 0),
        }
        for source, kind in sources
    ]
