"""Erasure (right to be forgotten): remove one person from every layer, published history and export files.

The person is found from any of their customer ids, a merged one too (person.py): every id they had
and every customer record mapped to one of them. What belongs to them is found by lineage and
identifier columns only (tables.py): rows keyed by their ids or records, their raw, staged,
quarantined and copied rows, lookup values only they carried; then their rows in every export
version, finished or not, and the transcoded copies of source files crashed runs left (exports.py).
Warehouse and files change together: the warehouse commits after the files are rewritten, so a
failure leaves the person findable and a rerun completes the erasure.

audit.erasures records what was removed (tables, row counts, files), never the personal data;
audit.erased_identifiers keeps SHA-256 hashes of their record keys, of the contact keys only they
carried and of their customer ids, so a later reload of the source files drops them again
(tasks/extract/erased.py) and a repeated request is recognised. An id never issued is refused.
"""

import json
from datetime import UTC, datetime
from typing import Any

from tasks.dedupe import shards as pair_shards
from tasks.erase.exports import erase_from_exports, remove_run_leftovers
from tasks.erase.person import Person, find_person, golden_values
from tasks.erase.tables import erase_from_warehouse
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

__all__ = ["Person", "erase_customer", "erase_from_exports", "erase_from_warehouse", "find_person"]


def export_values(golden: dict[str, list[str]], keys: dict[str, list[str]]) -> dict[str, list[str]]:
    """Export field -> the person's values in it (only theirs): how a file without customer_id shows their rows."""
    fields = {
        "email": [*golden.get("email", []), *keys.get("email", []), *keys.get("email_lower", [])],
        "phone": [*golden.get("phone", []), *keys.get("phone", [])],
        "device_id": [*golden.get("device_id", []), *keys.get("device", [])],
        "full_name": golden.get("full_name", []),
        "address": golden.get("address", []),
    }
    return {field: sorted(set(values)) for field, values in fields.items() if values}


def erase_customer(wh: Warehouse, config: PipelineConfig, customer_id: str) -> dict[str, Any]:
    """Erase one person everywhere and record it in audit.erasures; a second call removes nothing.

    Raises a DataError for a customer id that was never issued.
    """
    wh.ensure("ops/erasures")
    wh.ensure("ops/erased_identifiers")
    person = find_person(wh, customer_id)
    dropped = drop_work_tables(wh)
    now = datetime.now(UTC)
    removed: dict[str, int] = {}
    ids = [customer_id]
    with wh.transaction():
        values: dict[str, list[str]] = {}
        if person is not None:
            ids = person.ids
            golden = golden_values(wh, ids)  # read before their golden record goes
            removed, keys = erase_from_warehouse(wh, config, person, now)
            values = export_values(golden, keys)
        files = erase_from_exports(config.exports_path, ids, values)
        files += remove_run_leftovers(config.warehouse_path)
        wh.execute(
            "insert into audit.erasures values (?, ?, ?, ?, ?)",
            [customer_id, now, json.dumps(removed), sum(removed.values()), json.dumps(files)],
        )
    if wh.path is not None:
        wh.execute("checkpoint")  # the deleted rows leave the write-ahead log now, not at the next run
    return {
        "customer_id": customer_id,
        "customer_ids": len(ids),
        "rows_removed": sum(removed.values()),
        "tables": removed,
        "files": files,
        "work_tables_dropped": dropped,
    }


def drop_work_tables(wh: Warehouse) -> list[str]:
    """Drop the matcher's pair shards' work tables a killed run left (tasks/dedupe/shards.py): prepared
    records by node, not by record key, so not found row by row; their names. Each in a transaction of its
    own, before the erasure's; raises when one a late shard still writes to could not be dropped."""
    dropped = pair_shards.PARTS.drop_stale(wh)
    if left := pair_shards.PARTS.stale(wh):
        raise RuntimeError(
            f"work tables {', '.join(left)} of a killed dedupe run could not be dropped (a shard of it still "
            "writes): erase again once its stage-shard flow run has ended"
        )
    return dropped
