"""The golden record: core.customers, one row per customer, each field from the record that survives for it.

A customer's golden record is a function of its identity map rows, its customer records and their
observations (and dedupe.source_priority). So a run that can see the last run's tables recomputes only the
customers whose rows of those changed (core/golden_dirty.sql) and keeps the other golden records as they
are: the same rows a full build gives. The last run's inputs are kept by renaming them before they are
rebuilt (keep_previous; the identity map is updated in place when only touched components are re-resolved,
tasks/dedupe/touched.py); without them, after an erasure (core.customers lost rows), with other settings or
columns, or older code, the whole table is built again.
"""

from tasks.shared.warehouse import Warehouse, quote_identifier

GOLDEN_VERSION = 2  # bump when the golden record's SQL changes: the next run rebuilds every customer
INPUTS = ("core.customer_records", "core.record_observations", "core.identity_map")

CONFLICTS = "core.identity_conflicts"  # customers whose records disagree on sex or national id


def _before(table: str) -> str:
    """The name the last run's table is kept under while this run rebuilds it."""
    return f"{table}_before"


def previous_usable(wh: Warehouse, source_priority: list[str]) -> bool:
    """Whether core.customers can be brought up to date customer by customer: built by this code with these
    settings, untouched since (no rows deleted by an erasure), its inputs still there."""
    if not all(wh.table_exists(t) for t in ("core.customers", "core.golden_state", *INPUTS)):
        return False
    rows = wh.rows(wh.model_sql("core/golden_state_check"))
    if len(rows) != 1:
        return False
    priority, version, expected, held = rows[0]
    return list(priority or []) == list(source_priority) and version == GOLDEN_VERSION and expected == held


def keep_previous(wh: Warehouse, table: str) -> None:
    """Keep the last run's table (one of INPUTS) as <table>_before, so that this run can compare with it."""
    schema, name = table.split(".")
    wh.execute(f"drop table if exists {quote_identifier(_before(table))}")
    wh.execute(f"alter table {quote_identifier(table)} rename to {quote_identifier(_before(name))}")
    del schema


def comparable_inputs(wh: Warehouse) -> bool:
    """Whether the records and observations of this run can be compared with the last run's (kept by
    keep_previous): the same columns. With other columns (another config) every row would differ anyway."""
    return all(
        wh.columns(table) == wh.columns(_before(table))
        for table in ("core.customer_records", "core.record_observations")
    )


def keep_conflicts(wh: Warehouse, incremental: bool) -> None:
    """Bring core.identity_conflicts up to date: the customers recomputed this run (_golden_identity) checked again,
    those merged away forgotten; every customer when the golden record is built whole."""
    if incremental and wh.table_exists(CONFLICTS):
        wh.execute(
            f"delete from {CONFLICTS} where customer_id in (select customer_id from _golden_identity) "
            "or customer_id not in (select customer_id from core.customers)"
        )
        wh.insert(CONFLICTS, "core/identity_conflicts", identifiers={"identity": "_golden_identity"})
    else:
        wh.build(CONFLICTS, "core/identity_conflicts", identifiers={"identity": "core.identity_map"})


def build_customers(wh: Warehouse, source_priority: list[str], incremental: bool = False) -> int:
    """Build core.customers, the golden record, from core.identity_map, customer_records and record_observations.

    incremental: the last run's inputs were kept and compared (comparable_inputs): _changed_records holds the
    records whose customer record or observations changed (core/changed_records.sql), _identity_changed the
    customers whose identity map rows changed; only the customers they name are recomputed. Three
    statements (the per-field survivorship, the contact keys seen in any record, then the assembly): DuckDB
    can spill each to disk within its memory limit, where one statement joining the two aggregates ran out
    of memory at 10M customers. Returns the customers.
    """
    with wh.transaction():
        if incremental:
            wh.build("_golden_dirty", "core/golden_dirty", temp=True)
            wh.execute("drop table _changed_records")
            wh.execute("drop table _identity_changed")
        else:
            wh.build("_golden_dirty", "core/golden_none_dirty", temp=True)
        wh.build("_golden_identity", "core/golden_identity", {"all": not incremental}, temp=True)
        wh.build("customer_golden", "core/customer_golden", {"source_priority": source_priority}, temp=True)
        wh.build("customer_contacts", "core/customer_contacts", temp=True)
        if incremental:
            wh.run("core/golden_forget")
            wh.insert("core.customers", "core/customers")
        else:
            wh.build("core.customers", "core/customers")
        customers = wh.count("core.customers")
        keep_conflicts(wh, incremental)
        for table in ("customer_golden", "customer_contacts", "_golden_identity", "_golden_dirty"):
            wh.execute(f"drop table {table}")
        for table in INPUTS:
            wh.execute(f"drop table if exists {quote_identifier(_before(table))}")
        wh.build(
            "core.golden_state",
            "core/golden_state",
            {"source_priority": source_priority, "version": GOLDEN_VERSION, "customers": customers},
        )
    return customers
