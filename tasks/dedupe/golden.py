"""The golden record: core.customers, one row per customer, each field from the record that survives for it."""

from tasks.shared.warehouse import Warehouse


def build_customers(wh: Warehouse, source_priority: list[str]) -> int:
    """Build core.customers, the golden record, from core.identity_map, customer_records and record_observations.

    Three statements (the per-field survivorship, the contact keys seen in any record, then the
    assembly): DuckDB can spill each to disk within its memory limit, where one statement joining the
    two aggregates ran out of memory at 10M customers. Returns the customers.
    """
    with wh.transaction():
        wh.build("customer_golden", "core/customer_golden", {"source_priority": source_priority}, temp=True)
        wh.build("customer_contacts", "core/customer_contacts", temp=True)
        customers = wh.build("core.customers", "core/customers")
        wh.execute("drop table customer_golden")
        wh.execute("drop table customer_contacts")
    return customers
