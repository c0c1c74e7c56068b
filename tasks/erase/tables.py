"""Erasing one person from the warehouse: rows found by lineage and identifier columns, never by comparing text.

What belongs to the person (tasks/erase/person.py finds their ids and customer records):

- rows keyed by one of their customer ids (core, features, segments, published history, id registry,
  merge and split history);
- rows of their customer records (identity map and state, customer records, observations);
- raw, staged, quarantined and copied rows by lineage: the staged rows of their records and of the facts
  pointing at them, and every raw row that staging's mapping gives one of their record ids or a contact
  key only they carry (tasks/extract/erased.py, the same rule a reload applies again), with its copies;
- lookup rows (raw -> norm) of values only their staged rows carried: names, places, addresses, birth
  dates, emails, phones, device ids.

A value another person carries too (a shared city, a placeholder phone) is not theirs and stays.
"""

from datetime import datetime

from tasks.erase.person import Person
from tasks.extract.erased import collect_erased_lineage
from tasks.extract.kept_files import hide_erased_rows
from tasks.shared.config import PipelineConfig
from tasks.shared.contracts import FACT_KINDS, record_key, sha256_hex
from tasks.shared.lineage import (
    delete_keyed_rows,
    delete_lineage_rows,
    delete_record_rows,
    erasable_tables,
    tally,
)
from tasks.shared.warehouse import Warehouse, quote_identifier

# Lookup table -> the kind of value it normalizes (sql/ops/erase/person_values.sql).
LOOKUPS = {
    "core.name_lookup": "name",
    "core.place_lookup": "place",
    "core.address_lookup": "address",
    "core.birth_date_lookup": "birth_date",
    "core.email_lookup": "email",
    "core.phone_lookup": "phone",
    "core.device_lookup": "device",
}
# Contact keys that identify a person, by the lookup that says whether a value is usable (not a placeholder).
CONTACT_LOOKUPS = {"email": "core.email_lookup", "phone": "core.phone_lookup", "device": "core.device_lookup"}
# Fitted models kept from day to day (pickled estimators, the matcher's term frequencies, item
# co-occurrences) and the matcher's block sizes (records per hashed key value): learnt or counted from
# everyone's rows, the person's included, and not keyed by customer. They are dropped, and the next run fits
# every model again and counts the blocks without the person (a missing matcher model is a full matcher run).
FITTED_MODELS = (
    "core.match_model",
    "core.match_model_values",
    "core.match_state_blocks",
    "predict.model_fits",
    "segments.cluster_fits",
    "act.models",
    "act.item_similarity_model",
    "act.lookalike_folds",
)


def person_lineage(wh: Warehouse, person: Person) -> int:
    """Fill _erase_records and _erase_lineage (their staged rows and those of facts pointing at them); return rows."""
    wh.run("ops/erase_lineage")
    wh.run("ops/erase/records")
    if person.records:
        wh.con.executemany("insert into _erase_records values (?, ?)", person.records)
    if not person.records or not wh.table_exists("staging.customers"):
        return 0
    wh.insert("_erase_lineage", "ops/erase/record_lineage")
    for kind in FACT_KINDS:
        if wh.table_exists(f"core.{kind}"):
            wh.insert("_erase_lineage", "ops/erase/fact_lineage", identifiers={"facts": f"core.{kind}"})
    return wh.count("_erase_lineage")


def person_values(wh: Warehouse) -> dict[str, list[str]]:
    """kind -> the values only the rows in _erase_lineage carry (sql/ops/erase/person_values.sql)."""
    needed = ["staging.customers", *(f"staging.{kind}" for kind in FACT_KINDS)]
    if not all(wh.table_exists(table) for table in needed):
        return {}
    values: dict[str, list[str]] = {}
    for kind, raw in wh.rows(wh.model_sql("ops/erase/person_values")):
        values.setdefault(kind, []).append(raw)
    return {kind: sorted(found) for kind, found in values.items()}


def contact_keys(wh: Warehouse, values: dict[str, list[str]]) -> dict[str, list[str]]:
    """The person's contact keys as written: values only they carry that the lookups find usable (no placeholder)."""
    keys = {}
    for kind, lookup in CONTACT_LOOKUPS.items():
        candidates = values.get(kind, [])
        if candidates and wh.table_exists(lookup):
            sql = f"select raw from {quote_identifier(lookup)} where norm is not null and raw in (select unnest(?))"
            candidates = sorted(raw for (raw,) in wh.rows(sql, [candidates]))
        keys[kind] = candidates
    lower = set(values.get("email_lower", []))
    keys["email_lower"] = sorted({email.lower() for email in keys["email"]} & lower)
    keys["phone_norm"] = []  # the numbers those phones are (E.164), whatever the spelling
    if keys["phone"]:
        sql = "select distinct norm from core.phone_lookup where raw in (select unnest(?))"
        keys["phone_norm"] = sorted(norm for (norm,) in wh.rows(sql, [keys["phone"]]))
    return keys


def phone_digits(e164: str) -> list[str]:
    """The digit strings a spelling of a number reduces to (sql/staging/erased_rows.sql): with its country code
    (+86 151 8360 9667, 0086 …) and without (151 8360 9667; 010 6552 9988 without its trunk 0)."""
    import phonenumbers

    return [e164.lstrip("+"), str(phonenumbers.parse(e164).national_number)]


def identifier_hashes(person: Person, keys: dict[str, list[str]]) -> dict[str, list[str]]:
    """kind -> SHA-256 hashes kept in audit.erased_identifiers (never the values themselves).

    record: source|source_id of each customer record; written: their contact keys as written; email:
    their emails in lower case; phone_digits: their phones' numbers as digits, so that another spelling of one
    is theirs too; customer_id: each of their ids (a later erase of one says "erased before").
    """
    written = {*keys["email"], *keys["phone"], *keys["device"]}
    return {
        "record": sorted(record_key(source, source_id) for source, source_id in person.records),
        "written": sorted(sha256_hex(value) for value in written),
        "email": sorted(sha256_hex(email) for email in keys["email_lower"]),
        "phone_digits": sorted({sha256_hex(d) for e164 in keys["phone_norm"] for d in phone_digits(e164)}),
        "customer_id": sorted(sha256_hex(customer_id) for customer_id in person.ids),
    }


def record_identifiers(wh: Warehouse, hashed: dict[str, list[str]], now: datetime) -> None:
    """Add the hashes to audit.erased_identifiers (each once)."""
    record = wh.model_sql("ops/erase/erased_identifier")
    for kind, values in hashed.items():
        for value in values:
            wh.execute(record, {"kind": kind, "value_sha256": value, "erased_at": now})


def erase_from_warehouse(
    wh: Warehouse, config: PipelineConfig, person: Person, now: datetime
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Remove the person from every table, in one transaction.

    Returns the rows removed per table, and the person's contact keys (kind -> values only they carried).
    """
    removed: dict[str, int] = {}
    with wh.transaction():
        person_lineage(wh, person)
        keys = contact_keys(wh, person_values(wh))
        hashed = identifier_hashes(person, keys)
        record_identifiers(wh, hashed, now)
        # the rule a reload applies: raw rows (quarantined, older versions, copies) by their mapped fields
        collect_erased_lineage(wh, config, quarantined_only=False)
        values = person_values(wh)  # with every row found: what the lookups lose
        for table in erasable_tables(wh):
            names = wh.columns(table)
            delete_keyed_rows(wh, table, names, person.ids, removed)
            delete_record_rows(wh, table, names, removed)
            delete_lineage_rows(wh, table, names, removed)
            if table in LOOKUPS and values.get(LOOKUPS[table]):
                sql = wh.model_sql("ops/erase/lookup", {"lookup": table})
                tally(removed, table, wh.scalar(sql, {"values": values[LOOKUPS[table]]}))
        hide_erased_rows(wh, removed)  # raw rows read in place from a source's own files
        for table in FITTED_MODELS:
            if wh.table_exists(table):
                tally(removed, table, wh.scalar(wh.model_sql("ops/erase/fitted_model", {"fitted": table})))
    return removed, keys
