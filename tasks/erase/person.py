"""Who is erased: every customer id of the person a customer id names, and their customer records.

A customer id may have been merged into another one (core.customer_id_redirects follows the chain):
the person is everyone the chain ends at, with every id merged into it, so published history under
an older id goes too. An id never issued is refused; an id erased before is recognised (a second
erase removes nothing and says so).
"""

from dataclasses import dataclass

from tasks.shared.contracts import sha256_hex
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse, quote_identifier

CUSTOMER_ID_HINT = (
    "A customer id is C followed by 16 hex digits, as published; `segments profile SOURCE:SOURCE_ID "
    "--config PATH` shows the customer id of a person's record in a source (e.g. crm:M0001234)."
)


@dataclass(frozen=True)
class Person:
    """The person an erasure removes."""

    customer_id: str  # as asked for
    ids: list[str]  # every id of the person: the current one and those merged into it
    records: list[tuple[str, str]]  # (source, source_id) of every customer record mapped to one of ids


def erased_before(wh: Warehouse, customer_id: str) -> bool:
    """Whether an earlier erasure removed this customer id (asked for, or one of the person's other ids)."""
    asked = wh.table_exists("audit.erasures") and wh.scalar(
        "select count(*) from audit.erasures where customer_id = ?", [customer_id]
    )
    hashed = wh.table_exists("audit.erased_identifiers") and wh.scalar(
        "select count(*) from audit.erased_identifiers where kind = 'customer_id' and value_sha256 = ?",
        [sha256_hex(customer_id)],
    )
    return bool(asked or hashed)


def person_ids(wh: Warehouse, customer_id: str) -> list[str]:
    """Every id of the person customer_id names (empty: not in the warehouse)."""
    if wh.table_exists("core.customer_id_redirects"):
        ids = [i for (i,) in wh.rows(wh.model_sql("ops/erase/person_ids"), {"customer_id": customer_id})]
        if ids:
            return sorted(ids)
    for table in ("core.identity_map", "core.customers"):  # a warehouse from before the id registry
        if wh.table_exists(table) and wh.scalar(
            f"select count(*) from {quote_identifier(table)} where customer_id = ?", [customer_id]
        ):
            return [customer_id]
    return []


def find_person(wh: Warehouse, customer_id: str) -> Person | None:
    """The person customer_id names; None when erased before; a DataError when it was never issued."""
    ids = person_ids(wh, customer_id)
    if not ids:
        if erased_before(wh, customer_id):
            return None
        where = f" in {wh.path}" if wh.path else ""
        raise DataError(
            f"unknown customer id {customer_id!r}: no customer{where} ever had it, nothing was erased. "
            + CUSTOMER_ID_HINT
        )
    records: list[tuple[str, str]] = []
    if wh.table_exists("core.identity_map") and wh.table_exists("core.identity_state"):
        records = sorted(wh.rows(wh.model_sql("ops/erase/person_records"), {"customer_ids": ids}))
    elif wh.table_exists("core.identity_map"):
        records = sorted(
            wh.rows(
                "select source, source_id from core.identity_map where customer_id in (select unnest(?))",
                [ids],
            )
        )
    return Person(customer_id, ids, records)


def golden_values(wh: Warehouse, ids: list[str]) -> dict[str, list[str]]:
    """field -> the person's golden email, phone, device id, name and address that no other customer's golden
    record has."""
    if not wh.table_exists("core.customers"):
        return {}
    if "address" not in wh.columns("core.customers"):
        # built before the golden record kept an address (GOLDEN_VERSION 1): none to look for; the next run
        # builds the table again with it
        wh.execute("alter table core.customers add column address varchar")
    found: dict[str, list[str]] = {}
    for field, value in wh.rows(wh.model_sql("ops/erase/golden_values"), {"customer_ids": ids}):
        found.setdefault(field, []).append(value)
    return {field: sorted(values) for field, values in found.items()}
