"""Erased people stay erased: after a load, rows of people erased earlier are dropped again.

A full reload reads the source files again, and they still hold an erased person's rows. Erase
(tasks/erase) keeps only SHA-256 hashes of their record keys and contact keys in
audit.erased_identifiers; this drops the staged and raw rows that hash to them.
"""

from tasks.shared.config import PipelineConfig
from tasks.shared.lineage import delete_lineage_rows, erasable_tables
from tasks.shared.warehouse import Warehouse


def drop_erased(wh: Warehouse, config: PipelineConfig) -> int:
    """After a load: drop staged and raw rows of erased people again (a full reload re-reads the files)."""
    if not wh.table_exists("audit.erased_identifiers") or not wh.count("audit.erased_identifiers"):
        return 0  # nobody erased: nothing to scan
    wh.run("ops/erase_lineage")
    erased = "staging/erased_rows"
    customers = {"source": None, "record_source": None}
    wh.insert(
        "_erase_lineage", erased, customers, identifiers={"kind": "customers", "record_id": "source_id"}
    )
    for source in config.sources:
        if source.kind == "customers":
            continue
        wh.insert(
            "_erase_lineage",
            erased,
            {"source": source.name, "record_source": source.customer_source or source.name},
            identifiers={"kind": source.kind, "record_id": "customer_ref"},
        )
    removed: dict[str, int] = {}
    for table in erasable_tables(wh):
        delete_lineage_rows(wh, table, set(wh.columns(table)), removed)
    return sum(removed.values())
