"""The erasure defects users reported, one test each, on the small world of world.py (person A erased).

Each failed on the code before the fix: a predicate binding both sides to one table emptied
core.customer_records and removed another person's copied rows; raw and quarantined rows were matched
by comparing every text column with A's member ids (B's payment of amount 1 went); ids merged away kept
their published rows; lookups kept A's name; a reload brought quarantined rows back and dropped
other people's rows by a placeholder phone; a crashed publish's unfinished version and a crashed
extract's transcoded copy kept A's rows; an id never issued was "erased" with 0 rows.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from tasks.dedupe import shards as pair_shards
from tasks.erase import erase_customer, export_values
from tasks.erase.person import golden_values
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.unit.erase.conftest import SCRATCH, TRANSCODED
from tests.unit.erase.world import (
    A_CURRENT,
    A_MERGED,
    CRM_FILE,
    DAY1,
    DAY2,
    PAYMENTS_FILE,
    PLACEHOLDER,
    B,
    C,
    World,
    run_day,
)

World_ = tuple[World, Warehouse]


def test_other_peoples_customer_records_stay(world: World_) -> None:
    _, wh = world
    erase_customer(wh, world[0].config, A_CURRENT)
    assert wh.rows("select source, source_id from core.customer_records order by all") == [
        ("crm", "3"),
        ("crm", "4"),
    ]
    assert wh.rows(
        "select distinct record_id from core.record_observations where record_source = 'crm' order by 1"
    ) == [
        ("3",),
        ("4",),
    ]


def test_another_persons_copy_at_the_same_row_number_stays(world: World_) -> None:
    _, wh = world
    erase_customer(wh, world[0].config, A_CURRENT)
    # B's copied payment is row 2 of the payments file; A's member 2 is row 2 of the CRM file
    assert wh.rows("select source, file, row_number, id from audit.duplicates") == [
        ("payments", PAYMENTS_FILE, 2, "T2")
    ]


def test_rows_are_not_matched_by_comparing_text_with_the_member_id(world: World_) -> None:
    _, wh = world
    erase_customer(wh, world[0].config, A_CURRENT)  # A is member 1; B paid amounts of 1
    assert wh.rows("select txn_id, member_id, amount from raw.payments where amount = '1' order by _row") == [
        ("T2", "3", "1"),
        ("T2", "3", "1"),
        ("T5", "3", "1"),
    ]
    assert wh.rows("select source, file, row_number from audit.quarantine") == [
        ("payments", PAYMENTS_FILE, 4)
    ]


def test_ids_merged_away_lose_their_published_rows_and_history(world: World_) -> None:
    _, wh = world
    assert (
        wh.scalar("select count(*) from published.customer_segments where customer_id = ?", [A_MERGED]) == 1
    )
    erase_customer(wh, world[0].config, A_CURRENT)
    for table, column in [
        ("published.customer_segments", "customer_id"),
        ("published.customer_tags", "customer_id"),
        ("published.segment_changes", "customer_id"),
        ("core.customer_ids", "customer_id"),
        ("core.merge_history", "merged_customer_id"),
    ]:
        assert wh.scalar(f"select count(*) from {table} where {column} in (?, ?)", [A_CURRENT, A_MERGED]) == 0
    assert wh.rows("select customer_id from core.customer_ids order by 1") == sorted(
        [(B,), (C,), (wh.scalar("select customer_id from core.identity_map where source_id = 'row:T7'"),)]
    )


def test_an_id_known_only_as_a_redirect_erases_the_person(world: World_) -> None:
    _, wh = world
    result = erase_customer(wh, world[0].config, A_MERGED)
    assert wh.scalar("select count(*) from core.customers where customer_id = ?", [A_CURRENT]) == 0
    assert (
        wh.scalar("select count(*) from published.customer_segments where customer_id = ?", [A_CURRENT]) == 0
    )
    assert result["customer_ids"] == 2


def test_lookups_lose_the_values_only_the_person_had(world: World_) -> None:
    _, wh = world
    erase_customer(wh, world[0].config, A_CURRENT)
    # 王晓明 is A's own; 王小明 is C's name too, 杭州 B's city, 1990-01-02 B's birth date, the placeholder C's
    assert wh.rows("select raw from core.name_lookup order by 1") == [("李四",), ("王小明",)]
    assert ("杭州",) in wh.rows("select raw from core.place_lookup")
    assert wh.scalar("select count(*) from core.birth_date_lookup where raw = '1990-01-02'") == 1
    assert wh.rows("select raw from core.phone_lookup order by 1") == [(PLACEHOLDER,), ("13922220003",)]
    assert wh.rows("select raw from core.email_lookup order by 1") == [
        ("b3@example.com",),
        ("c4@example.com",),
    ]
    assert wh.rows("select raw from core.device_lookup order by 1") == [("DEV-B-0003",)]


def test_quarantined_rows_and_copies_do_not_come_back_after_a_full_reload(world: World_) -> None:
    world_, wh = world
    erase_customer(wh, world_.config, A_MERGED)
    run_day(wh, world_, DAY2, "run-3", full_refresh=["all"])
    assert wh.rows("select source, row_number from audit.quarantine") == [("payments", 4)]
    assert wh.rows("select source, row_number from audit.duplicates") == [("payments", 2)]
    assert wh.rows("select _row from raw.crm order by 1") == [(3,), (5,)]
    assert wh.rows("select customer_id from core.customer_ids order by 1") == sorted(
        wh.rows("select distinct customer_id from core.identity_map")
    )


def test_a_shared_placeholder_phone_is_no_identifier_and_a_reload_keeps_its_rows(world: World_) -> None:
    world_, wh = world
    erase_customer(wh, world_.config, A_CURRENT)  # A's member 2 wrote the placeholder phone, so did C
    run_day(wh, world_, DAY2, "run-3", full_refresh=["all"])
    assert wh.rows("select source_id from staging.customers order by 1") == [("3",), ("4",)]
    assert wh.rows("select txn_id from staging.transactions order by 1") == [("T2",), ("T7",), ("T8",)]
    assert wh.scalar(
        "select count(*) from published.customer_segments where as_of = ? and customer_id = ?", [DAY2, C]
    )


def test_a_crashed_publish_keeps_no_row_of_the_person(world: World_) -> None:
    world_, wh = world
    (crashed,) = (world_.exports / ".versions" / DAY2.isoformat()).glob(".*.tmp")
    assert A_CURRENT in pl.read_parquet(crashed / "customer_segments.parquet")["customer_id"].to_list()
    result = erase_customer(wh, world_.config, A_CURRENT)
    for path in crashed.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        assert "customer_id" not in frame.columns or A_CURRENT not in frame["customer_id"].to_list()
    assert f".versions/{DAY2.isoformat()}/{crashed.name}/customer_segments.csv" in result["files"]


def test_a_killed_sharded_publishs_part_files_are_removed(world: World_) -> None:
    world_, wh = world
    versions = world_.exports / ".versions" / DAY2.isoformat()
    (kept,) = [p for p in versions.iterdir() if not p.name.startswith(".")]
    parts = versions / ".parts-0123456789ab"  # tasks/publish/shards.py parts_folder
    parts.mkdir()
    rows = (kept / "customer_segments.csv").read_bytes().split(b"\n", 1)[1]  # headerless, as a shard writes
    assert A_CURRENT.encode() in rows
    (parts / "part-00000.csv").write_bytes(rows)
    result = erase_customer(wh, world_.config, A_CURRENT)
    assert not parts.exists()
    assert f".versions/{DAY2.isoformat()}/.parts-0123456789ab" in result["files"]


def test_a_killed_runs_pair_shard_tables_are_dropped(world: World_) -> None:
    # the matcher's pair shards' work tables (tasks/dedupe/shards.py) hold prepared records by node, not by
    # record key: a killed run's are dropped whole
    world_, wh = world
    base = pair_shards.parts_table()
    wh.execute(f"create table {base}_records as select 0::bigint as node, 'zhang' as given_name")
    wh.execute(f"create table {base} as select 0::bigint as left_node, 1::bigint as right_node")
    result = erase_customer(wh, world_.config, A_CURRENT)
    assert pair_shards.PARTS.stale(wh) == []
    assert sorted(result["work_tables_dropped"]) == [base, f"{base}_records"]
    assert not any(table.startswith(base) for table in result["tables"])  # not counted as the person's rows


def test_a_crashed_extracts_transcoded_copy_is_removed(world: World_) -> None:
    world_, wh = world
    result = erase_customer(wh, world_.config, A_CURRENT)
    assert not (world_.folder / TRANSCODED).exists()
    assert TRANSCODED in result["files"]


def test_a_killed_runs_scratch_folder_is_removed(world: World_) -> None:
    world_, wh = world
    assert world_.config.warehouse_path.name + ".scratch" == SCRATCH
    result = erase_customer(wh, world_.config, A_CURRENT)
    assert not (world_.folder / SCRATCH).exists()
    assert SCRATCH in result["files"]


def test_an_id_never_issued_is_refused_with_a_hint(world: World_) -> None:
    world_, wh = world
    with pytest.raises(DataError) as error:
        erase_customer(wh, world_.config, "Cffffffffffffffff")
    assert "unknown customer id 'Cffffffffffffffff'" in str(error.value)
    assert "segments profile" in str(error.value)
    assert wh.count("audit.erasures") == 0
    assert (world_.folder / TRANSCODED).exists()  # nothing was done


def test_day_one_exports_lose_the_merged_id_and_the_hashed_email(world: World_) -> None:
    world_, wh = world
    day1 = world_.exports / DAY1.isoformat()
    before = pl.read_csv(day1 / "hashed" / "customers.csv").height
    erase_customer(wh, world_.config, A_CURRENT)
    ids = pl.read_parquet(day1 / "customer_segments.parquet")["customer_id"].to_list()
    assert A_MERGED not in ids and A_CURRENT not in ids
    assert pl.read_csv(day1 / "hashed" / "customers.csv").height == before - 2  # a1@ and wxm@, hashed
    assert not [p for p in world_.exports.rglob(f"*{CRM_FILE}*")]


def test_a_file_without_customer_id_is_searched_by_each_golden_value_only_the_person_has() -> None:
    # a postal mailing (address, postcode, country) names the person by their address alone
    golden = {"email": ["a@x.cn"], "address": ["人民路 1 号"], "full_name": ["张三"]}
    keys = {"email_lower": ["a@x.cn"], "phone": ["+8613900000001"], "device": ["D1"]}
    assert export_values(golden, keys) == {
        "email": ["a@x.cn"],
        "phone": ["+8613900000001"],
        "device_id": ["D1"],
        "full_name": ["张三"],
        "address": ["人民路 1 号"],
    }


def test_golden_values_of_a_golden_record_built_before_addresses_were_kept(wh: Warehouse) -> None:
    # an erasure right after an upgrade, before a run has built core.customers again
    wh.execute(
        "create table core.customers as select * from (values ('C1', 'a@x.cn', null, null, '张三')) "
        "t(customer_id, email, phone, device_id, full_name)"
    )
    assert golden_values(wh, ["C1"]) == {"email": ["a@x.cn"], "full_name": ["张三"]}


def test_rows_a_where_leaves_out_do_not_come_back_after_a_full_reload(world: World_) -> None:
    # A's payments T1 (member 1) and T6 (A's phone) are left out by the where: kept in raw, not staged, so no
    # staged row leads to them; the reload must find them by their identifiers
    world_, wh = world
    erase_customer(wh, world_.config, A_MERGED)
    where = "txn_id in ('T2', 'T5', 'T7', 'T8')"
    sources = [
        s.model_copy(update={"where": where}) if s.name == "payments" else s for s in world_.config.sources
    ]
    filtered = replace(world_, config=world_.config.model_copy(update={"sources": sources}))
    run_day(wh, filtered, DAY2, "run-3", full_refresh=["all"])
    assert wh.rows("select txn_id from raw.payments order by _row") == [
        ("T2",),
        ("T2",),
        ("T5",),
        ("T7",),
        ("T8",),
    ]
    assert wh.rows("select txn_id from staging.transactions order by 1") == [("T2",), ("T7",), ("T8",)]
    # the load counts them as erased, not as left out: 7 read = 3 staged, 1 quarantined (T5), 1 copy, 2 erased
    assert wh.rows(
        "select rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_filtered, rows_erased "
        "from audit.load_audit where run_id = 'run-3' and source = 'payments'"
    ) == [(7, 3, 1, 1, 0, 2)]


def test_another_spelling_of_the_persons_phone_does_not_bring_them_back(world: World_) -> None:
    """The fault-injection pass's defect: a new payment with A's phone written +86 139 1111 0001 was staged and
    made a customer holding the erased number; only the spelling the erasure had seen was dropped."""
    world_, wh = world
    erase_customer(wh, world_.config, A_CURRENT)  # A's member 1 wrote 13911110001
    (world_.folder / "data" / "payments" / "p2.csv").write_text(
        "txn_id,member_id,phone,email,amount,created_at\n"
        "T9,,+86 139 1111 0001,,9,2026-01-16 12:00:00\n"
        "T10,,0086-139-1111-0001,,10,2026-01-16 12:00:00\n"
        "T11,,１３９ １１１１ ０００１,,11,2026-01-16 12:00:00\n"
        "T12,,+86 139 2222 0003,,12,2026-01-16 12:00:00\n",  # B's phone stays
        encoding="utf-8",
    )
    run_day(wh, world_, DAY2, "run-3")
    assert wh.rows("select txn_id from staging.transactions where _file like '%p2.csv' order by 1") == [
        ("T12",)
    ]
    assert wh.scalar("select count(*) from core.phone_lookup where norm = '+8613911110001'") == 0
