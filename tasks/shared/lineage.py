"""Deleting a person's rows by lineage: what erase does to one person and extract does again after a reload.

Rows of raw and staging tables are found by their lineage (source, file, row) in the temp table
`_erase_lineage`; other rows by a condition. Counts of what was removed go into a dict per table.
"""

from typing import Any

from tasks.shared.warehouse import Warehouse, quote_identifier


def erasable_tables(wh: Warehouse) -> list[str]:
    """schema.table of every base table of the warehouse layers (never the erasure audit itself)."""
    return [name for name in wh.base_tables() if name not in ("audit.erasures", "audit.erased_identifiers")]


def tally(removed: dict[str, int], table: str, count: int | None) -> None:
    """Add the rows a delete removed from table to the per-table counts (tables with none are left out)."""
    if count:
        removed[table] = removed.get(table, 0) + count


def delete_rows(wh: Warehouse, table: str, where: str, params: list[Any], removed: dict[str, int]) -> None:
    """Delete rows matching where from table, in one statement (it returns how many); add the count to removed."""
    tally(removed, table, wh.scalar(f"delete from {quote_identifier(table)} where {where}", params))


def delete_lineage_rows(wh: Warehouse, table: str, names: set[str], removed: dict[str, int]) -> None:
    """Delete from a raw or staging table the rows whose (source, file, row) is in _erase_lineage."""
    schema = table.split(".")[0]
    if schema == "raw" and {"_source", "_file", "_row"} <= names:
        source = "_source"
    elif schema == "staging" and {"source", "_file", "_row"} <= names:
        source = "source"
    else:
        return
    delete_rows(
        wh,
        table,
        f"exists (select 1 from _erase_lineage as l where l.source = {source} and l.file = _file "
        "and l.row = _row)",
        [],
        removed,
    )
