"""Erasure end to end on the generated sample: only the person's rows change, everywhere, and stay gone.

The person is the survivor of a merge (a CRM member and a device seen in the game, one customer since
day 2, published under both ids on day 1), erased by the id that was merged away. A late CRM file
gives them a copied row and a quarantined one; a publish and an extract crashed and left files.
Before and after, the whole warehouse (every table of every schema, every row) and the whole export
tree (every file's rows) are compared: the rows removed are exactly those that belong to the person
by lineage and identifiers, nothing is added but the erasure's own audit, and none of their
identifiers is left in any row or file. A full reload of every source then brings none of it back.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from flows.daily_refresh import daily_refresh
from flows.erase import erase
from tasks.erase.tables import FITTED_MODELS
from tasks.shared.config import load_config
from tasks.shared.contracts import sha256_hex
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.backend import stored_bytes
from tests.conftest import SAMPLE_END, write_config
from tests.e2e.test_publish_e2e import DESTINATIONS
from tests.unit.erase.snapshot import Snapshot, difference, export_snapshot, select, warehouse_snapshot

pytestmark = pytest.mark.e2e

ERASURE_AUDIT = {"audit.erasures", "audit.erased_identifiers"}
FACT_VIEWS = ("core.transactions", "core.events", "core.feedback")
STAGED_VALUES = {  # staged columns whose values the lookups normalize, or that identify a person
    "customers": ("full_name", "email", "phone", "device_id", "city", "province", "address", "birth_date"),
    "transactions": ("email", "phone", "device_id"),
    "events": ("email", "phone", "device_id"),
    "feedback": ("email", "phone", "device_id"),
}


def person_markers(wh: Warehouse, customer_id: str) -> dict[str, Any]:
    """What belongs to the person customer_id names, by lineage and identifiers (read before the erasure)."""
    ids = {
        i
        for (i,) in wh.rows(
            "select customer_id from core.customer_id_redirects where current_customer_id = "
            "(select current_customer_id from core.customer_id_redirects where customer_id = ?)",
            [customer_id],
        )
    }
    records = set(
        wh.rows(
            "select source, source_id from core.identity_map where customer_id in (select unnest(?)) union "
            "select source, source_id from core.identity_state where customer_id in (select unnest(?))",
            [sorted(ids), sorted(ids)],
        )
    )
    lineage = {
        (s, f, r)
        for s, f, r, i in wh.rows("select source, _file, _row, source_id from staging.customers")
        if (s, i) in records
    }
    for view in FACT_VIEWS:
        lineage |= {
            (s, f, r)
            for s, f, r, rs, ri in wh.rows(
                f"select source, _file, _row, record_source, record_id from {view}"
            )
            if (rs, ri) in records
        }
    member_ids = {source_id for source, source_id in records if source == "crm"}
    # quarantined rows naming one of their members (the sample's member columns), and copies of their rows
    for source, file, row, record in wh.rows("select source, file, row_number, record from audit.quarantine"):
        if any(f'"{member}"' in record for member in member_ids):
            lineage.add((source, file, row))
    for source, file, row, kept_file, kept_row in wh.rows(
        "select source, file, row_number, kept_file, kept_row_number from audit.duplicates"
    ):
        if (source, kept_file, kept_row) in lineage:
            lineage.add((source, file, row))
    # values only their staged rows carry
    theirs: set[str] = set()
    others: set[str] = set()
    for kind, columns in STAGED_VALUES.items():
        for row in wh.dicts(f"select source, _file, _row, {', '.join(columns)} from staging.{kind}"):
            found = {str(row[c]) for c in columns if row[c] is not None}
            (theirs if (row["source"], row["_file"], row["_row"]) in lineage else others).update(found)
    values = theirs - others
    return {
        "ids": ids,
        "records": records,
        "lineage": lineage,
        "values": values,
        # long enough to look for inside a text (a quarantined row's JSON, a hashed email in an export)
        "inside": {v for v in values if len(v) >= 8}
        | {sha256_hex(v) for v in values if "@" in v}
        | {f'"{member}"' for member in member_ids},
        "names": {v for v in values if not v.isascii()},
    }


def belongs_to(markers: dict[str, Any]) -> Callable[[str, Mapping[str, Any]], bool]:
    """Whether a warehouse or export row is the person's, by lineage and identifiers."""

    def test(table: str, row: Mapping[str, Any]) -> bool:
        texts = [str(v) for v in row.values() if v is not None]
        if any(t in markers["ids"] or t in markers["values"] for t in texts):
            return True
        if (
            row.get("source", row.get("record_source")),
            row.get("source_id", row.get("record_id")),
        ) in markers["records"]:
            return True
        lineage = (
            row.get("_source", row.get("source")),
            row.get("_file", row.get("file")),
            row.get("_row", row.get("row_number")),
        )
        if lineage in markers["lineage"]:
            return True
        return any(marker in t for t in texts for marker in markers["inside"])

    return test


def warehouse_only(snapshot: Snapshot) -> Snapshot:
    return {name: rows for name, rows in snapshot.items() if name not in ERASURE_AUDIT}


def tables_only(snapshot: Snapshot) -> Snapshot:
    return {name: rows for name, rows in snapshot.items() if not name.endswith("manifest.json")}


def add_late_rows(data: Path, member: Mapping[str, Any]) -> None:
    """Two rows appended to the CRM export: a copy of the member's row and a version dated in the future."""
    header = [c for c in member if not c.startswith("_")]
    future = {**member, "注册时间": "2099-01-01 00:00:00", "更新时间": "2099-01-01 00:00:00"}
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(
        [[member[c] for c in header], [future[c] for c in header]]
    )
    (path,) = (data / "crm").glob("*.csv")
    with path.open("ab") as handle:
        handle.write(text.getvalue().encode("gbk"))


def crash_leftovers(exports: Path, warehouse_dir: Path, day: str) -> None:
    """What a publish and an extract killed midway leave: an unfinished version, a transcoded source copy."""
    versions = exports / ".versions" / day
    kept = sorted(p for p in versions.iterdir() if not p.name.startswith("."))[-1]
    shutil.copytree(
        kept, versions / f".{kept.name}-crashed.tmp", ignore=shutil.ignore_patterns("manifest.json")
    )
    transcoded = warehouse_dir / ".extract-crashed-run"
    transcoded.mkdir()
    for source in (warehouse_dir.parent / "data" / "crm").glob("*.csv"):
        (transcoded / f"{source.stem}.utf8.csv").write_text(
            source.read_bytes().decode("gbk"), encoding="utf-8"
        )


def test_erasing_a_merged_person_changes_only_their_rows_and_a_reload_keeps_them_out(
    prefect_server: None, sample_copy: Path, tmp_path: Path
) -> None:
    config_path = write_config(sample_copy, tmp_path / "work", destinations=DESTINATIONS)
    config = load_config(config_path)
    day1, day2 = SAMPLE_END - timedelta(days=7), SAMPLE_END
    daily_refresh(as_of=day1, config=str(config_path))
    daily_refresh(as_of=day2, config=str(config_path))
    with Warehouse.open(config, read_only=True) as wh:
        survivor, merged = wh.rows(
            "select m.surviving_customer_id, m.merged_customer_id from core.merge_history m "
            "join core.identity_map i on i.customer_id = m.surviving_customer_id and i.source = 'crm' "
            "order by 1 limit 1"
        )[0]
        (member,) = wh.dicts(
            "select r.* exclude (_loaded_at, _run_id) from raw.crm r join core.identity_map i "
            "on i.source = 'crm' and i.source_id = r.\"会员编号\" where i.customer_id = ? limit 1",
            [survivor],
        )
    add_late_rows(sample_copy, member)
    daily_refresh(as_of=day2, config=str(config_path))  # reads the CRM export again, with the appended rows
    crash_leftovers(config.exports_path, config.warehouse_path.parent, day2.isoformat())

    with Warehouse.open(config, read_only=True) as wh:
        markers = person_markers(wh, merged)
        tables = warehouse_snapshot(wh)
    files = export_snapshot(config.exports_path)
    belongs = belongs_to(markers)
    assert markers["ids"] == {survivor, merged} and len(markers["records"]) >= 2
    assert markers["names"], "the person has a name only they have"
    theirs = select(warehouse_only(tables), belongs)
    assert {"raw.crm", "raw.game", "audit.quarantine", "audit.duplicates", "core.name_lookup"} <= set(theirs)
    assert {dict(row)["customer_id"] for row in theirs["published.customer_segments"]} == markers["ids"]

    result = erase(customer_id=merged, config=str(config_path))

    with Warehouse.open(config, read_only=True) as wh:
        after = warehouse_snapshot(wh)
    removed, added = difference(tables, after)
    # the game source's Parquet files are read in place: their rows are hidden by file and row, not deleted
    hidden = [dict(row) for row in added.pop("audit.raw_row_marks")]
    assert sorted((row["source"], row["file"], row["raw_row"], row["hidden"]) for row in hidden) == sorted(
        ("game", row["_file"], row["_row"], True) for row in map(dict, theirs["raw.game"])
    )
    assert set(added) <= ERASURE_AUDIT
    # their rows, and every fitted model (learnt from everyone's rows: the next run fits them again)
    fitted = {name: rows for name, rows in warehouse_only(tables).items() if name in FITTED_MODELS and rows}
    assert fitted
    assert warehouse_only(removed) == theirs | fitted
    assert result["rows_removed"] == sum(sum(rows.values()) for rows in (theirs | fitted).values())
    assert select(warehouse_only(after), belongs) == {}
    # the flow compacted the file (or rewrote the lake's files): no byte of their values is left anywhere
    data = stored_bytes(config)
    assert [v for v in sorted(markers["values"]) if len(v.encode()) >= 8 and v.encode() in data] == []

    after_files = export_snapshot(config.exports_path)
    removed_files, added_files = difference(tables_only(files), tables_only(after_files))
    assert added_files == {}
    assert removed_files == select(tables_only(files), belongs)
    assert any("-crashed.tmp/" in name for name in removed_files)
    assert select(tables_only(after_files), belongs) == {}
    assert not (config.warehouse_path.parent / ".extract-crashed-run").exists()
    long_values = sorted(markers["inside"] | markers["ids"] | markers["names"])
    for path in config.exports_path.rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert [v for v in long_values if v in text] == [], path

    # through the flow, an id never issued is refused and a second erase (by the other id) removes nothing
    with pytest.raises(DataError, match="unknown customer id 'C0123456789abcdef'"):
        erase(customer_id="C0123456789abcdef", config=str(config_path))
    again = erase(customer_id=survivor, config=str(config_path))
    assert (again["rows_removed"], again["files"]) == (0, [])

    # a full reload reads every source file again: nothing of theirs comes back
    daily_refresh(as_of=day2, config=str(config_path), full_refresh=["all"])
    with Warehouse.open(config, read_only=True) as wh:
        reloaded = warehouse_only(warehouse_snapshot(wh))
        quarantined = wh.rows("select record from audit.quarantine")
    assert select(reloaded, belongs) == {}
    assert select(tables_only(export_snapshot(config.exports_path)), belongs) == {}
    assert not [r for (r,) in quarantined if any(m in r for m in markers["inside"])]
    # everyone else is read again: as many quarantined and copied rows as before, less the person's
    for table in ("audit.quarantine", "audit.duplicates", "raw.crm", "raw.game", "raw.payments"):
        others = sum(n for row, n in tables[table].items() if not belongs(table, dict(row)))
        assert sum(reloaded[table].values()) == others, table
