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
    records = "select value_sha256 from audit.erased_identifiers where kind = 'record'"
    emails = "select value_sha256 from audit.erased_identifiers where kind = 'email'"
    written = "select value_sha256 from audit.erased_identifiers where kind = 'written'"
    keyed = (
        f"sha256(lower(trim(email))) in ({emails}) or sha256(trim(email)) in ({written}) "
        f"or sha256(trim(phone)) in ({written}) or sha256(trim(device_id)) in ({written})"
    )
    wh.execute("create or replace temp table _erase_lineage (source varchar, file varchar, row bigint)")
    wh.execute(
        f"insert into _erase_lineage select source, _file, _row from staging.customers "
        f"where sha256(source || '|' || source_id) in ({records}) or {keyed}"
    )
    for source in config.sources:
        if source.kind == "customers":
            continue
        record_source = source.customer_source or source.name
        wh.execute(
            f"insert into _erase_lineage select source, _file, _row from staging.{source.kind} "
            "where source = ? and ((customer_ref is not null and sha256(? || '|' || customer_ref) in "
            f"({records})) or {keyed})",
            [source.name, record_source],
        )
    removed: dict[str, int] = {}
    for table in erasable_tables(wh):
        delete_lineage_rows(wh, table, set(wh.columns(table)), removed)
    return sum(removed.values())
