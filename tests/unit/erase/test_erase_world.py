"""Erasing one person from a small world run through every stage: only their rows go, all of them, for good.

The world (world.py) has person A with two records merged into one customer, published under both
ids, with copies, quarantined rows, a crashed publish and a crashed extract's transcoded copy; and
people B and C sharing values with A (amount 1 where A is member 1, a copy at A's row number, A's
city, birth date, name, placeholder phone). A row is A's by lineage and identifiers: one of A's
customer ids, customer records or (source, file, row), or a value only A has (their own name,
phone, emails, device, hashed email). The whole warehouse and export tree is compared row by row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from tasks.erase import erase_customer
from tasks.erase.tables import FITTED_MODELS
from tasks.shared.contracts import sha256_hex
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.unit.erase.conftest import HALF_WRITTEN, TRANSCODED
from tests.unit.erase.snapshot import difference, export_snapshot, select, text_of, warehouse_snapshot
from tests.unit.erase.world import (
    A_CURRENT,
    A_MERGED,
    CRM_FILE,
    DAY2,
    GAME_FILE,
    PAYMENTS_FILE,
    World,
    run_day,
)

A_IDS = {A_CURRENT, A_MERGED}
A_RECORDS = {("crm", "1"), ("crm", "2"), ("game", "device:DEV-A-0001"), ("payments", "email:wxm@example.com")}
A_LINEAGE = {
    *(("crm", CRM_FILE, row) for row in (1, 2, 4, 6, 7)),  # records, a copy, two quarantined rows
    *(("payments", PAYMENTS_FILE, row) for row in (3, 5)),
    *(("game", GAME_FILE, row) for row in (1, 2)),
}
# values only A has: their second name, phone, emails (also hashed, as the 'hashed' destination sends them), device
A_VALUES = ["王晓明", "13911110001", "a1@example.com", "wxm@example.com", "DEV-A-0001"]
A_VALUES += [sha256_hex(v) for v in ("a1@example.com", "wxm@example.com")]
ERASURE_AUDIT = {"audit.erasures", "audit.erased_identifiers"}


def is_a(table: str, row: Mapping[str, Any]) -> bool:
    """Whether a warehouse or export row belongs to person A, by lineage and identifiers."""
    if any(value in A_IDS for value in row.values() if isinstance(value, str)):
        return True
    record = (row.get("source", row.get("record_source")), row.get("source_id", row.get("record_id")))
    if record in A_RECORDS:
        return True
    lineage = (
        row.get("_source", row.get("source")),
        row.get("_file", row.get("file")),
        row.get("_row", row.get("row_number")),
    )
    if lineage in A_LINEAGE:
        return True
    return any(value in text_of(row) for value in A_VALUES)


def lineage(rows: Counter) -> list[tuple]:
    """The (file, row) of each row of a raw or audit table, sorted."""
    found = []
    for row in rows.elements():
        values = dict(row)
        found.append((values.get("_file", values.get("file")), values.get("_row", values.get("row_number"))))
    return sorted(found)


def warehouse_only(snapshot: dict) -> dict:
    return {name: rows for name, rows in snapshot.items() if name not in ERASURE_AUDIT}


def tables_only(snapshot: dict) -> dict:
    """Export files without the manifests (an erasure updates the entries of the files it rewrites)."""
    return {name: rows for name, rows in snapshot.items() if not name.endswith("manifest.json")}


@pytest.mark.parametrize("asked", [A_MERGED, A_CURRENT], ids=["merged-id", "current-id"])
def test_erase_removes_exactly_the_persons_rows_everywhere(
    world: tuple[World, Warehouse], asked: str
) -> None:
    world_, wh = world
    tables, files = warehouse_snapshot(wh), export_snapshot(world_.exports)
    assert set(select(warehouse_only(tables), is_a)) >= {
        "core.customer_records",
        "core.name_lookup",
        "audit.quarantine",
        "audit.duplicates",
        "raw.crm",
        "published.customer_segments",
    }

    result = erase_customer(wh, world_.config, asked)

    removed, added = difference(tables, warehouse_snapshot(wh))
    assert set(added) <= ERASURE_AUDIT
    # the person's rows, and every fitted model (learnt from everyone's rows: the next run fits them again)
    fitted = {name: rows for name, rows in warehouse_only(tables).items() if name in FITTED_MODELS and rows}
    assert fitted  # the world's refresh stored fits
    assert warehouse_only(removed) == select(warehouse_only(tables), is_a) | fitted
    assert result["tables"] == {name: sum(rows.values()) for name, rows in warehouse_only(removed).items()}
    assert select(warehouse_only(warehouse_snapshot(wh)), is_a) == {}

    after = export_snapshot(world_.exports)
    removed_files, added_files = difference(tables_only(files), tables_only(after))
    assert added_files == {}
    half_written = {name: rows for name, rows in files.items() if name.endswith(HALF_WRITTEN)}
    assert len(half_written) == 1
    assert removed_files == select(tables_only(files), is_a) | half_written
    assert [
        name for name in removed_files if ".tmp/" in name and name.endswith(".parquet")
    ]  # the crashed publish
    assert not (world_.folder / TRANSCODED).exists()
    for path in world_.folder.rglob("*"):
        if path.is_file() and not path.is_relative_to(world_.folder / "data") and path.suffix != ".duckdb":
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not [v for v in [*A_VALUES, *A_IDS] if v in text], path


def test_a_full_reload_brings_none_of_the_person_back(world: tuple[World, Warehouse]) -> None:
    world_, wh = world
    before = warehouse_only(warehouse_snapshot(wh))
    erase_customer(wh, world_.config, A_MERGED)

    run_day(wh, world_, DAY2, "run-3", full_refresh=["all"])

    reloaded = warehouse_only(warehouse_snapshot(wh))
    assert select(reloaded, is_a) == {}
    assert select(export_snapshot(world_.exports), is_a) == {}
    # everyone else's rows are read again: B's payment of amount 1, its copy and its quarantined payment
    for table in ("raw.crm", "raw.payments", "raw.game", "audit.quarantine", "audit.duplicates"):
        others = Counter({row: n for row, n in before[table].items() if not is_a(table, dict(row))})
        assert lineage(reloaded[table]) == lineage(others), table
    assert wh.rows("select file, row_number from audit.quarantine order by all") == [(PAYMENTS_FILE, 4)]
    # the load's counts reconcile: A's rows read again are counted as erased, not as staged, quarantined or copies
    loaded = {
        file: counts
        for file, *counts in wh.rows(
            "select file, rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_erased "
            "from audit.load_audit where run_id = 'run-3'"
        )
    }
    staged = dict(
        wh.rows(
            "select _file, count(*) from (select _file from staging.customers union all "
            "select _file from staging.transactions union all select _file from staging.events) group by all"
        )
    )
    assert {file: counts[-1] for file, counts in loaded.items()} == {
        CRM_FILE: 5,
        PAYMENTS_FILE: 2,
        GAME_FILE: 2,
    }
    for file, (read, kept, quarantined, copies, erased) in loaded.items():
        assert read == kept + quarantined + copies + erased, file
        assert kept == staged[file], file
    assert [loaded[file][2:4] for file in (CRM_FILE, PAYMENTS_FILE, GAME_FILE)] == [[0, 0], [1, 1], [0, 0]]
    logged = wh.rows(
        "select source, rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_erased "
        "from audit.extract_log where run_id = 'run-3' order by source"
    )
    assert [(source, erased) for source, *_, erased in logged] == [("crm", 5), ("game", 2), ("payments", 2)]
    assert [read == sum(counts) for _, read, *counts in logged] == [True, True, True]


def test_an_id_never_issued_is_refused_and_a_second_erase_removes_nothing(
    world: tuple[World, Warehouse],
) -> None:
    world_, wh = world
    with pytest.raises(DataError, match=r"unknown customer id 'C0000000000000000'.*segments profile"):
        erase_customer(wh, world_.config, "C0000000000000000")
    assert wh.count("audit.erasures") == 0
    first = erase_customer(wh, world_.config, A_CURRENT)
    assert first["rows_removed"] > 0 and first["files"]
    for asked in (A_CURRENT, A_MERGED):  # the merged id is known as erased, not unknown
        again = erase_customer(wh, world_.config, asked)
        assert (again["rows_removed"], again["tables"], again["files"]) == (0, {}, [])
    assert wh.rows("select customer_id, rows_removed from audit.erasures order by erased_at") == [
        (A_CURRENT, first["rows_removed"]),
        (A_CURRENT, 0),
        (A_MERGED, 0),
    ]
