"""Erasing one person from the warehouse: every table keyed by the customer id, and their rows by lineage.

What is removed is found from the customer id: the customer records mapped to it (core.identity_map),
the staged rows of those records and their raw rows (by lineage: source, file, row), quarantined and
duplicate rows carrying the same identifiers, and every row keyed by the customer id.
"""

from typing import Any

from tasks.shared.contracts import FACT_KINDS, record_key, sha256_hex
from tasks.shared.lineage import delete_lineage_rows, delete_rows, erasable_tables, tally
from tasks.shared.warehouse import Warehouse, quote_identifier

LOOKUPS = ("core.email_lookup", "core.phone_lookup", "core.device_lookup")


def delete_by_model(
    wh: Warehouse,
    table: str,
    model: str,
    params: dict[str, Any],
    removed: dict[str, int],
    *,
    identifiers: dict[str, str] | None = None,
    fragments: dict[str, str] | None = None,
) -> None:
    """Run a delete model (a delete from table); add the rows it deleted to removed under table."""
    tally(removed, table, wh.scalar(wh.model_sql(model, identifiers, fragments), params))


def person_lineage(wh: Warehouse, records: list[tuple[str, str]]) -> int:
    """Fill _erase_lineage with the (source, file, row) of every staged row of the person's records; return how many."""
    wh.run("ops/erase_lineage")
    if not records or not wh.table_exists("staging.customers"):
        return 0
    wh.run("ops/erase/records")
    wh.con.executemany("insert into _erase_records values (?, ?)", records)
    wh.insert("_erase_lineage", "ops/erase/record_lineage")
    for kind in FACT_KINDS:
        if wh.table_exists(f"core.{kind}"):
            wh.insert("_erase_lineage", "ops/erase/fact_lineage", identifiers={"facts": f"core.{kind}"})
    return wh.count("_erase_lineage")


def erase_from_warehouse(wh: Warehouse, customer_id: str) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Remove the person from every table; return rows removed per table and the hashed identifiers."""
    removed: dict[str, int] = {}
    records = (
        wh.rows("select source, source_id from core.identity_map where customer_id = ?", [customer_id])
        if wh.table_exists("core.identity_map")
        else []
    )
    person = (
        wh.dicts("select email, phone from core.customers where customer_id = ?", [customer_id])
        if wh.table_exists("core.customers")
        else []
    )
    lineage = person_lineage(wh, records)
    # identifiers as written in the sources (raw values), for quarantined rows that never reached staging
    written: set[str] = {source_id for _, source_id in records}
    if lineage:
        for kind in ("customers", *FACT_KINDS):
            sql = wh.model_sql("ops/erase/written_identifiers", {"staged": f"staging.{kind}"})
            for values in wh.rows(sql):
                written |= {v for v in values if v}
    emails = {p["email"] for p in person if p["email"]}
    phones = {p["phone"] for p in person if p["phone"]}
    hashed = {
        "record": sorted(record_key(s, i) for s, i in records),
        "email": sorted(sha256_hex(e) for e in emails),
        "phone": sorted(sha256_hex(p) for p in phones),
        # contact keys exactly as the sources wrote them (trimmed), so a reload drops rows keyed by them
        "written": sorted({sha256_hex(v.strip()) for v in written}),
    }

    with wh.transaction():
        for table in erasable_tables(wh):
            names = set(wh.columns(table))
            if "customer_id" in names:
                delete_rows(wh, table, "customer_id = ?", [customer_id], removed)
            if lineage:
                delete_lineage_rows(wh, table, names, removed)
            if table == "core.customer_records" and records:
                delete_by_model(wh, table, "ops/erase/customer_records", {}, removed)
            if table == "core.record_observations" and records:
                delete_by_model(wh, table, "ops/erase/record_observations", {}, removed)
            if table in LOOKUPS:
                values = sorted(written | emails | phones)
                delete_by_model(
                    wh, table, "ops/erase/lookup", {"values": values}, removed, identifiers={"lookup": table}
                )
        _erase_audit_rows(wh, written, lineage, removed)
    return removed, hashed


def _erase_audit_rows(wh: Warehouse, written: set[str], lineage: int, removed: dict[str, int]) -> None:
    """Quarantined rows carrying the person's identifiers, duplicates of their rows, and such raw rows."""
    if wh.table_exists("audit.quarantine") and written:
        delete_by_model(wh, "audit.quarantine", "ops/erase/quarantine", {"written": sorted(written)}, removed)
    if wh.table_exists("audit.duplicates") and lineage:
        delete_by_model(wh, "audit.duplicates", "ops/erase/duplicates", {}, removed)
    # raw rows that were dropped as exact duplicates or quarantined carry the same identifiers
    for table in wh.base_tables(["raw"]):
        text_columns = [
            name
            for name, sql_type in wh.describe(quote_identifier(table))
            if sql_type == "VARCHAR" and not name.startswith("_")
        ]
        if text_columns and written:
            # one pass over the table, whatever its columns (a list_has_any over them is slower)
            matches = " or ".join(f'"{c}" in (select unnest($written))' for c in text_columns)
            delete_by_model(
                wh,
                table,
                "ops/erase/raw_rows",
                {"written": sorted(written)},
                removed,
                identifiers={"raw": table},
                fragments={"matches": matches},
            )
