"""Stable customer ids: consecutive dedupe runs on hand-built staging rows, merges, splits, backfills.

Every test runs dedupe_all on an in-memory warehouse whose staging tables come from
tasks.extract.create_tables; rows are inserted directly, so each expected id can be traced to a row.
"""

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from tasks.dedupe import dedupe_all
from tasks.dedupe.ids import assign_ids, customer_id_for, resolve_ids
from tasks.dedupe.lookups import build_attribute_lookups
from tasks.extract import create_tables
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13900000001"


def ts(day: date) -> datetime:
    """Noon in Shanghai on day."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)


def config(placeholders: tuple[str, ...] = (), customers_only: bool = False) -> PipelineConfig:
    """Two customers sources (crm, web) and a payments source pointing into crm; or crm alone."""
    sources: list[dict[str, Any]] = [
        {
            "name": "crm",
            "kind": "customers",
            "format": "csv",
            "path": "crm/*.csv",
            "columns": {"source_id": "id"},
        }
    ]
    if not customers_only:
        sources += [
            {
                "name": "web",
                "kind": "customers",
                "format": "csv",
                "path": "web/*.csv",
                "columns": {"source_id": "id"},
            },
            {
                "name": "payments",
                "kind": "transactions",
                "format": "csv",
                "path": "payments/*.csv",
                "customer_source": "crm",
                "columns": {"txn_id": "id", "customer_ref": "m", "ts": "t", "amount": "a"},
            },
        ]
    return PipelineConfig.model_validate(
        {"warehouse": ":memory:", "sources": sources, "dedupe": {"placeholders": list(placeholders)}}
    )


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    with Warehouse(":memory:") as warehouse:
        create_tables(warehouse)
        yield warehouse


def stage(wh: Warehouse, kind: str, row: Mapping[str, object]) -> None:
    """Insert one row into staging.<kind>, naming only the columns given."""
    columns = ", ".join(f'"{c}"' for c in row)
    wh.execute(
        f"insert into staging.{kind} ({columns}) values ({', '.join('?' for _ in row)})", list(row.values())
    )


def customer(wh: Warehouse, source: str, source_id: str, signup: date, **fields: object) -> None:
    """Stage (or replace) one customers row."""
    wh.execute("delete from staging.customers where source = ? and source_id = ?", [source, source_id])
    stage(wh, "customers", {"source": source, "source_id": source_id, "signup_ts": ts(signup), **fields})


def run(wh: Warehouse, day: date, run_id: str, **config_options: Any) -> dict[str, str]:
    """Dedupe as of day; return (source:source_id) -> customer_id."""
    pipeline = config(**config_options)
    dedupe_all(wh, pipeline, day, run_id)
    return {
        f"{s}:{i}": c for s, i, c in wh.rows("select source, source_id, customer_id from core.identity_map")
    }


A, B, W = customer_id_for("crm:m1"), customer_id_for("crm:m2"), customer_id_for("web:w1")
M3, W3 = customer_id_for("crm:m3"), customer_id_for("web:w3")
DAY1, DAY2, DAY3, DAY4 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 4)


def three_runs(wh: Warehouse) -> list[dict[str, str]]:
    """Day 1: four records; day 2: new and changed records; day 3: a record that links two customers."""
    customer(wh, "crm", "m1", date(2025, 12, 1), email="a@x.com")
    customer(wh, "crm", "m2", date(2025, 12, 2), phone=PHONE)
    customer(wh, "web", "w1", date(2025, 12, 3), email="b@x.com")
    customer(wh, "web", "w2", date(2025, 12, 5), email="A@X.com ")
    stage(wh, "transactions", {"source": "payments", "txn_id": "t1", "customer_ref": "m1", "ts": ts(DAY1)})
    first = run(wh, DAY1, "r1")
    # new records (one joins m2 by phone, one is new); changed ones: m1's signup corrected to after w2's
    # (its cluster's earliest record is now w2: the id must not move) and w1's email changed
    customer(wh, "web", "w3", DAY2, phone=f"+86 {PHONE}")
    customer(wh, "crm", "m3", DAY2, email="d@x.com")
    customer(wh, "crm", "m1", date(2025, 12, 10), email="a@x.com")
    customer(wh, "web", "w1", date(2025, 12, 3), email="c@x.com", updated_at=ts(DAY2))
    second = run(wh, DAY2, "r2")
    # m4 shares w1's new email and m2's phone: customers W and B merge
    customer(wh, "crm", "m4", DAY3, email="C@x.com", phone=PHONE)
    third = run(wh, DAY3, "r3")
    return [first, second, third]


def test_ids_are_stable_across_three_runs_with_new_changed_and_merging_records(wh: Warehouse) -> None:
    first, second, third = three_runs(wh)
    assert first == {"crm:m1": A, "web:w2": A, "crm:m2": B, "web:w1": W}
    # m1 keeps A although w2 is now the cluster's earliest record; w3 joins B; m3 is new
    assert second == {"crm:m1": A, "web:w2": A, "crm:m2": B, "web:w3": B, "web:w1": W, "crm:m3": M3}
    # W and B merge: B's customer was first seen earlier (Dec 2 < Dec 3), so B survives
    assert third == {
        "crm:m1": A,
        "web:w2": A,
        "crm:m2": B,
        "web:w3": B,
        "web:w1": B,
        "crm:m4": B,
        "crm:m3": M3,
    }
    assert wh.rows(
        "select as_of, run_id, merged_customer_id, surviving_customer_id, records, match_rules "
        "from core.merge_history"
    ) == [(DAY3, "r3", W, B, 1, ["exact:email", "exact:phone"])]
    assert wh.rows("select count(*) from core.split_history") == [(0,)]
    assert wh.rows(
        "select customer_id, current_customer_id, hops from core.customer_id_redirects order by 1"
    ) == sorted([(A, A, 0), (B, B, 0), (W, B, 1), (M3, M3, 0)])
    assert wh.rows(
        "select customer_id, anchor, status, merged_into from core.customer_ids order by 1"
    ) == sorted(
        [
            (A, "crm:m1", "active", None),
            (B, "crm:m2", "active", None),
            (W, "web:w1", "merged", B),
            (M3, "crm:m3", "active", None),
        ]
    )
    assert wh.rows(
        "select as_of, run_id, mode, records, customers, new_customers, merges, splits from core.identity_runs"
    ) == [
        (DAY1, "r1", "forward", 4, 3, 3, 0, 0),
        (DAY2, "r2", "forward", 6, 4, 1, 0, 0),
        (DAY3, "r3", "forward", 7, 3, 0, 1, 0),
    ]
    # the golden record and the fact rows follow the surviving id
    assert wh.rows("select customer_id, records from core.customers order by customer_id") == sorted(
        [(A, 2), (B, 4), (M3, 1)]
    )


def test_earlier_published_rows_are_traced_to_the_surviving_id(wh: Warehouse) -> None:
    three_runs(wh)
    # rows published on day 1 under W (before the merge) read as B today
    wh.execute(
        "create table published_day1 as select * from (values ('"
        + W
        + "', 'whale')) as t(customer_id, segment)"
    )
    assert wh.rows(
        "select redirects.current_customer_id, published.segment from published_day1 as published "
        "join core.customer_id_redirects as redirects using (customer_id)"
    ) == [(B, "whale")]


def test_a_placeholder_added_to_the_config_splits_the_merge_and_revives_the_merged_id(wh: Warehouse) -> None:
    three_runs(wh)
    # the shared phone becomes a placeholder: it no longer links m2, w3 and m4
    fourth = run(wh, DAY4, "r4", placeholders=(PHONE,))
    # B's anchor m2 keeps B; {w1, m4} (earliest w1) gets W back; w3 is a customer of its own
    assert fourth == {
        "crm:m1": A,
        "web:w2": A,
        "crm:m2": B,
        "web:w3": W3,
        "web:w1": W,
        "crm:m4": W,
        "crm:m3": M3,
    }
    assert wh.rows(
        "select as_of, run_id, customer_id, new_customer_id, records from core.split_history order by new_customer_id"
    ) == sorted([(DAY4, "r4", B, W, 2), (DAY4, "r4", B, W3, 1)], key=lambda r: r[3])
    assert wh.rows(
        "select customer_id, current_customer_id from core.customer_id_redirects where customer_id = ?", [W]
    ) == [(W, W)]
    assert wh.rows("select count(*) from core.merge_history") == [(1,)]
    # a rerun of the same day changes nothing and records nothing
    assert run(wh, DAY4, "r4-again", placeholders=(PHONE,)) == fourth
    assert wh.rows("select count(*) from core.split_history") == [(2,)]
    assert wh.rows(
        "select mode, new_customers, merges, splits from core.identity_runs where run_id = 'r4-again'"
    ) == [("forward", 0, 0, 0)]


def test_a_backfill_of_an_earlier_day_reproduces_its_ids_and_leaves_the_state_alone(wh: Warehouse) -> None:
    _, second, third = three_runs(wh)
    state = wh.rows("select * from core.identity_state order by all")
    registry = wh.rows("select * from core.customer_ids order by all")
    # day 2 again, after day 3: W is not merged yet on that day
    assert run(wh, DAY2, "backfill") == second
    assert wh.rows("select * from core.identity_state order by all") == state
    assert wh.rows("select * from core.customer_ids order by all") == registry
    assert wh.rows("select count(*) from core.merge_history") == [(1,)]
    assert wh.rows("select mode from core.identity_runs where run_id = 'backfill'") == [("backfill",)]
    # the next forward run carries on from day 3
    assert run(wh, DAY3, "r3-again") == third


def test_dedupe_runs_on_a_config_with_only_a_customers_source(wh: Warehouse) -> None:
    customer(
        wh, "crm", "m1", date(2025, 12, 1), email="a@x.com", full_name="張 三", birth_date=date(1990, 1, 2)
    )
    customer(
        wh,
        "crm",
        "m2",
        date(2025, 12, 2),
        email="a@x.com",
        full_name="张三",
        city="北京市",
        address="建國路 88號",
    )
    customer(
        wh,
        "crm",
        "m3",
        date(2025, 12, 3),
        email="test@test.com",
        phone="13800000000",
        birth_date=date(1970, 1, 1),
    )
    customer(wh, "crm", "m4", date(2025, 12, 4), email="test@test.com", phone="13800000000")
    ids = run(wh, DAY1, "r1", customers_only=True)
    # placeholders never link m3 and m4
    assert ids == {"crm:m1": A, "crm:m2": A, "crm:m3": M3, "crm:m4": customer_id_for("crm:m4")}
    assert wh.rows(
        "select source, source_id, customer_id, match_rule, match_score from core.identity_map order by source_id"
    ) == [
        ("crm", "m1", A, "exact:email", 1.0),
        ("crm", "m2", A, "exact:email", 1.0),
        ("crm", "m3", M3, "singleton", None),
        ("crm", "m4", customer_id_for("crm:m4"), "singleton", None),
    ]
    assert wh.rows(
        "select source_id, name_norm, name_key, birth_date_norm, address_norm, city_norm "
        "from core.customer_records order by 1"
    ) == [
        ("m1", "张三", "sanzhang", date(1990, 1, 2), None, None),
        ("m2", "张三", "sanzhang", None, "建国路88号", "北京"),
        ("m3", None, None, None, None, None),  # 1970-01-01 is a placeholder birth date
        ("m4", None, None, None, None, None),
    ]


def test_resolve_ids_follows_chains_of_merges() -> None:
    registry = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "status": ["merged", "merged", "active", "active"],
            "merged_into": ["B", "C", None, None],
        }
    )
    assert resolve_ids(registry) == {"A": "C", "B": "C"}


def test_assign_ids_merges_to_the_earliest_customer_then_the_smaller_id() -> None:
    components = pl.DataFrame(
        {
            "record_source": ["s", "s", "s"],
            "record_id": ["1", "2", "3"],
            "component": [0, 0, 0],
            "first_seen": [None, None, None],
            "match_rule": ["exact:email"] * 3,
        },
        schema_overrides={"first_seen": pl.Datetime("us", "UTC")},
    )
    previous = pl.DataFrame(
        {"source": ["s", "s", "s"], "source_id": ["1", "2", "3"], "customer_id": ["Z", "Y", "X"]}
    )
    registry = pl.DataFrame(
        {
            "customer_id": ["X", "Y", "Z"],
            "anchor": ["s:3", "s:2", "s:1"],
            "first_seen": [datetime(2026, 1, 2, tzinfo=ZoneInfo("UTC")), None, None],
            "status": ["active"] * 3,
            "merged_into": [None] * 3,
        }
    )
    result = assign_ids(components, previous, registry)
    # Y and Z are both first seen "since always": the smaller id survives; X was seen later
    assert result.records["customer_id"].to_list() == ["Y", "Y", "Y"]
    assert result.merges.select("merged_customer_id", "surviving_customer_id").rows() == [
        ("X", "Y"),
        ("Z", "Y"),
    ]
    assert result.new_ids.height == 0
    assert result.splits.height == 0


def test_attribute_lookups_normalize_each_value_once_across_runs(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = config(customers_only=True)
    customer(wh, "crm", "m1", DAY1, full_name="張三", city="北京市", province="北京市")
    customer(wh, "crm", "m2", DAY1, family_name="李", given_name="四", birth_date=date(1990, 1, 2))
    assert build_attribute_lookups(wh, pipeline, DAY1) == {
        "core.name_lookup": 2,  # 張三, 李 四
        "core.place_lookup": 1,
        "core.address_lookup": 0,
        "core.birth_date_lookup": 1,
    }
    customer(wh, "crm", "m3", DAY2, full_name="王五", city="北京市", address="建國路 88號")
    assert build_attribute_lookups(wh, pipeline, DAY2) == {
        "core.name_lookup": 1,  # only 王五 is new
        "core.place_lookup": 0,
        "core.address_lookup": 1,
        "core.birth_date_lookup": 1,  # rebuilt every run: it depends on as_of and date_order
    }
    assert wh.rows("select raw, norm, key from core.name_lookup order by raw") == [
        ("張三", "张三", "sanzhang"),
        ("李 四", "李四", "lisi"),
        ("王五", "王五", "wangwu"),
    ]
    # a normalizer change (a new LOOKUP_VERSION) normalizes every value again
    monkeypatch.setattr("tasks.dedupe.lookups.LOOKUP_VERSION", "next")
    assert build_attribute_lookups(wh, pipeline, DAY2)["core.name_lookup"] == 3
    assert wh.rows("select distinct version from core.name_lookup") == [("next",)]


def test_source_priority_must_name_configured_sources() -> None:
    with pytest.raises(ValueError, match=r"dedupe.source_priority names unknown sources: \['erp'\]"):
        PipelineConfig.model_validate(
            {
                "warehouse": ":memory:",
                "sources": [
                    {
                        "name": "crm",
                        "kind": "customers",
                        "format": "csv",
                        "path": "c/*.csv",
                        "columns": {"source_id": "id"},
                    }
                ],
                "dedupe": {"source_priority": ["crm", "erp"]},
            }
        )
