"""Erasure (right to be forgotten): remove one person from every layer, published history and export files.

What is removed is found from the person's customer id: the customer records mapped to it
(core.identity_map), the staged rows of those records and their raw rows (by lineage: source,
file, row), quarantined and duplicate rows carrying the same identifiers, every row keyed by the
customer id (tables.py), and their rows in every export file (exports.py). audit.erasures records
what was removed (tables, row counts, files), never the personal data; audit.erased_identifiers
keeps SHA-256 hashes of the identifiers, so a later full reload of the source files drops them again.
"""

import json
from datetime import UTC, datetime
from typing import Any

from tasks.erase.exports import erase_from_exports
from tasks.erase.tables import erase_from_warehouse
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

__all__ = ["erase_customer", "erase_from_exports", "erase_from_warehouse"]


def erase_customer(wh: Warehouse, config: PipelineConfig, customer_id: str) -> dict[str, Any]:
    """Erase one person everywhere and record it in audit.erasures; a second call removes nothing."""
    wh.ensure("ops/erasures")
    wh.ensure("ops/erased_identifiers")
    removed, hashed = erase_from_warehouse(wh, customer_id)
    files = erase_from_exports(config.exports_path, customer_id)
    now = datetime.now(UTC)
    record = wh.model_sql("ops/erase/erased_identifier")
    with wh.transaction():
        for kind, values in hashed.items():
            for value in values:
                wh.execute(record, {"kind": kind, "value_sha256": value, "erased_at": now})
        wh.execute(
            "insert into audit.erasures values (?, ?, ?, ?, ?)",
            [customer_id, now, json.dumps(removed), sum(removed.values()), json.dumps(files)],
        )
    return {
        "customer_id": customer_id,
        "rows_removed": sum(removed.values()),
        "tables": removed,
        "files": files,
    }
