"""Deleting a person's rows: what erase does to one person and extract does again after a reload.

Rows are found by lineage and by identifier columns only, never by comparing arbitrary text:

- lineage: the (source, file, row) of a raw row, in the temp table `_erase_lineage`; the same row under
  its staged name (source, _file, _row) and in audit.quarantine / audit.duplicates (source, file, row_number);
- customer records: (source, source_id) or (record_source, record_id) in the temp table `_erase_records`;
- customer ids: a column holding one (customer_id, merged_customer_id, merged_into, ...).

Every delete is a model of sql/ops/erase/ with fully qualified column names: inside a subquery an
unqualified name binds to the inner table first (`where erased.source = source` compares a column
with itself), which once deleted every customer record instead of one person's.
Counts of what was removed go into a dict per table.
"""

from collections.abc import Collection, Sequence

from tasks.shared.warehouse import Warehouse

# The erasure audit itself is never erased from.
ERASURE_AUDIT = ("audit.erasures", "audit.erased_identifiers")
# Lineage columns (source, file, row) of a table, by the names raw, staging and the audit tables use.
LINEAGE_COLUMNS = (
    ("_source", "_file", "_row"),  # raw.<source>
    ("source", "_file", "_row"),  # staging.<kind>, core.customer_records
    ("source", "file", "row_number"),  # audit.quarantine, audit.duplicates
)
# Customer-record columns (source, id) of a table.
RECORD_COLUMNS = (
    ("source", "source_id"),
    ("record_source", "record_id"),
    ("source_a", "id_a"),  # a pair of records (core.match_links, core.match_evidence): either side
    ("source_b", "id_b"),
)
# Raw tables keep each source's own columns as read: only their lineage columns are ours.
SOURCE_SCHEMAS = ("raw",)


def erasable_tables(wh: Warehouse) -> list[str]:
    """schema.table of every base table of the warehouse layers (never the erasure audit itself)."""
    return [name for name in wh.base_tables() if name not in ERASURE_AUDIT]


def tally(removed: dict[str, int], table: str, count: int | None) -> None:
    """Add the rows a delete removed from table to the per-table counts (tables with none are left out)."""
    if count:
        removed[table] = removed.get(table, 0) + count


def lineage_columns(names: Collection[str]) -> tuple[str, str, str] | None:
    """The (source, file, row) columns of a table with these column names, or None without lineage."""
    return next((columns for columns in LINEAGE_COLUMNS if set(columns) <= set(names)), None)


def customer_id_columns(table: str, names: Collection[str]) -> list[str]:
    """The columns of a table that hold a customer id (none in a raw table: its columns are the source's)."""
    if table.split(".")[0] in SOURCE_SCHEMAS:
        return []
    return sorted(n for n in names if n in ("customer_id", "merged_into") or n.endswith("_customer_id"))


def record_columns(table: str, names: Collection[str]) -> list[tuple[str, str]]:
    """Every (source, id) column pair of a table keyed by customer record (both sides of a record pair)."""
    if table.split(".")[0] in SOURCE_SCHEMAS:
        return []
    return [columns for columns in RECORD_COLUMNS if set(columns) <= set(names)]


def delete_lineage_rows(wh: Warehouse, table: str, names: Collection[str], removed: dict[str, int]) -> None:
    """Delete from table the rows whose lineage is in _erase_lineage (nothing when it has no lineage columns)."""
    columns = lineage_columns(names)
    if columns is None:
        return
    source, file, row = columns
    identifiers = {"target": table, "source": source, "file": file, "row": row}
    tally(removed, table, wh.scalar(wh.model_sql("ops/erase/lineage_rows", identifiers)))


def delete_keyed_rows(
    wh: Warehouse, table: str, names: Collection[str], keys: Sequence[str], removed: dict[str, int]
) -> None:
    """Delete from table the rows holding one of keys (customer ids) in any of its customer id columns."""
    for column in customer_id_columns(table, names):
        sql = wh.model_sql("ops/erase/keyed_rows", {"target": table, "key": column})
        tally(removed, table, wh.scalar(sql, {"keys": list(keys)}))


def delete_record_rows(wh: Warehouse, table: str, names: Collection[str], removed: dict[str, int]) -> None:
    """Delete from table the rows of the customer records in _erase_records (by any of its record keys)."""
    for source, record_id in record_columns(table, names):
        sql = wh.model_sql("ops/erase/record_rows", {"target": table, "source": source, "id": record_id})
        tally(removed, table, wh.scalar(sql))
