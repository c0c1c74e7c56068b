"""Erasure (right to be forgotten): remove one person from every layer, published history and export files.

What is removed is found from the person's customer id: the customer records mapped to it
(core.identity_map), the staged rows of those records and their raw rows (by lineage: source,
file, row), quarantined and duplicate rows carrying the same identifiers, every row keyed by the
customer id, and their rows in every export file. audit.erasures records what was removed
(tables, row counts, files), never the personal data; audit.erased_identifiers keeps SHA-256
hashes of the identifiers, so a later full reload of the source files drops them again.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from tasks.shared.config import PipelineConfig
from tasks.shared.contracts import FACT_KINDS, record_key, sha256_hex
from tasks.shared.files import file_entry, fsync_dir, write_file, write_text
from tasks.shared.lineage import delete_lineage_rows, delete_rows, erasable_tables
from tasks.shared.warehouse import Warehouse, quote_identifier

ERASURE_TABLES = (
    """
    create table if not exists audit.erasures (
        customer_id varchar, erased_at timestamptz, tables json, rows_removed bigint, files json
    )
    """,
    """
    create table if not exists audit.erased_identifiers (
        kind varchar, value_sha256 varchar, erased_at timestamptz
    )
    """,
)


def person_lineage(wh: Warehouse, records: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(source, file, row) of every staged row of the person's customer records."""
    if not records or not wh.table_exists("staging.customers"):
        return []
    wh.execute("create or replace temp table _erase_records (source varchar, source_id varchar)")
    wh.con.executemany("insert into _erase_records values (?, ?)", records)
    branches = [
        "select c.source, c._file, c._row from staging.customers as c "
        "join _erase_records as e on e.source = c.source and e.source_id = c.source_id"
    ]
    for kind in FACT_KINDS:
        if wh.table_exists(f"core.{kind}"):
            branches.append(
                f"select f.source, f._file, f._row from core.{kind} as f "
                "join _erase_records as e on e.source = f.record_source and e.source_id = f.record_id"
            )
    return wh.rows(" union ".join(branches))


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
        wh.execute("create or replace temp table _erase_lineage (source varchar, file varchar, row bigint)")
        wh.con.executemany("insert into _erase_lineage values (?, ?, ?)", lineage)
        for kind in ("customers", *FACT_KINDS):
            for values in wh.rows(
                f"select s.email, s.phone, s.device_id from staging.{kind} as s join _erase_lineage as l "
                "on l.source = s.source and l.file = s._file and l.row = s._row"
            ):
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
                delete_rows(
                    wh,
                    table,
                    "exists (select 1 from _erase_records as e where e.source = source and e.source_id = source_id)",
                    [],
                    removed,
                )
            if table == "core.record_observations" and records:
                delete_rows(
                    wh,
                    table,
                    "exists (select 1 from _erase_records as e where e.source = record_source "
                    "and e.source_id = record_id)",
                    [],
                    removed,
                )
            if table in ("core.email_lookup", "core.phone_lookup", "core.device_lookup"):
                values = sorted(written | emails | phones)
                delete_rows(
                    wh,
                    table,
                    "raw in (select unnest(?)) or norm in (select unnest(?))",
                    [values, values],
                    removed,
                )
        _erase_audit_rows(wh, records, written, lineage, removed)
    return removed, hashed


def _erase_audit_rows(
    wh: Warehouse,
    records: list[tuple[str, str]],
    written: set[str],
    lineage: list[tuple[str, str, int]],
    removed: dict[str, int],
) -> None:
    """Quarantined rows carrying the person's identifiers, and duplicates of their rows."""
    if wh.table_exists("audit.quarantine") and written:
        delete_rows(
            wh,
            "audit.quarantine",
            "list_has_any(json_extract_string(record, '$.*'), ?)",
            [sorted(written)],
            removed,
        )
    if wh.table_exists("audit.duplicates") and lineage:
        delete_rows(
            wh,
            "audit.duplicates",
            "exists (select 1 from _erase_lineage as l where l.source = source "
            "and ((l.file = file and l.row = row_number) or (l.file = kept_file and l.row = kept_row_number)))",
            [],
            removed,
        )
    # raw rows that were dropped as exact duplicates or quarantined carry the same identifiers
    for (table,) in wh.rows(
        "select 'raw.' || table_name from information_schema.tables where table_schema = 'raw'"
    ):
        text_columns = [
            name
            for name, sql_type in wh.rows(
                f"select column_name, column_type from (describe {quote_identifier(table)})"
            )
            if sql_type == "VARCHAR" and not name.startswith("_")
        ]
        if text_columns and written:
            condition = " or ".join(f'"{c}" in (select unnest(?))' for c in text_columns)
            delete_rows(wh, table, condition, [sorted(written)] * len(text_columns), removed)


def erase_from_exports(exports: Path, customer_id: str) -> list[str]:
    """Rewrite every export file holding the person's rows without them; return the files rewritten."""
    rewritten: list[str] = []
    versions = exports / ".versions"
    if not versions.exists():
        return rewritten
    for manifest_path in sorted(versions.glob("*/*/manifest.json")):
        folder = manifest_path.parent
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        changed = False
        for name in list(manifest["files"]):
            path = folder / name
            if path.suffix not in (".csv", ".parquet"):
                continue
            frame = (
                pl.read_parquet(path)
                if path.suffix == ".parquet"
                else pl.read_csv(path, infer_schema=False, encoding="utf8")
            )
            frame = frame.rename({c: c.lstrip("\ufeff") for c in frame.columns})
            if "customer_id" not in frame.columns:
                continue
            kept = frame.filter(pl.col("customer_id") != customer_id)
            if kept.height == frame.height:
                continue
            write_file(kept, path)
            manifest["files"][name] = file_entry(path, kept.height)
            rewritten.append(str(path.relative_to(exports)))
            changed = True
            if name == "customer_segments.parquet":
                manifest["row_counts"]["customer_segments"] = kept.height
        if changed:
            manifest["erased_at"] = datetime.now(UTC).isoformat()
            write_text(json.dumps(manifest, indent=2, ensure_ascii=False), manifest_path)
            fsync_dir(folder)
    return rewritten


def erase_customer(wh: Warehouse, config: PipelineConfig, customer_id: str) -> dict[str, Any]:
    """Erase one person everywhere and record it in audit.erasures; a second call removes nothing."""
    for ddl in ERASURE_TABLES:
        wh.execute(ddl)
    removed, hashed = erase_from_warehouse(wh, customer_id)
    files = erase_from_exports(config.exports_path, customer_id)
    now = datetime.now(UTC)
    with wh.transaction():
        for kind, values in hashed.items():
            for value in values:
                wh.execute(
                    "insert into audit.erased_identifiers select ?, ?, ? where not exists "
                    "(select 1 from audit.erased_identifiers where kind = ? and value_sha256 = ?)",
                    [kind, value, now, kind, value],
                )
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
