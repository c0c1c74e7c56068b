"""Touched components: a run re-resolves only the clusters its changes reach (tasks/dedupe/touched.py).

Hand-built staging rows on an in-memory warehouse (the helpers of test_ids): three customers, then a
record that merges two of them, then a change of that record that splits them again. The third customer
is never touched: its rows stay as they were. After every incremental run, the same day resolved from
scratch (rebuild: every record linked) gives the same identity map and golden records.
"""

from collections.abc import Iterator
from datetime import date

import pytest

from tasks.dedupe import DedupeResult, dedupe_all
from tasks.dedupe.ids import customer_id_for
from tasks.extract import create_tables
from tasks.shared.warehouse import Warehouse
from tests.unit.dedupe.test_ids import PHONE, config, customer

A, B, U = customer_id_for("crm:m1"), customer_id_for("crm:m2"), customer_id_for("crm:m5")
DAY1, DAY2, DAY3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    with Warehouse(":memory:") as warehouse:
        create_tables(warehouse)
        yield warehouse


def identity(wh: Warehouse) -> list[tuple]:
    """core.identity_map: source, source_id, customer_id, match_rule, match_score, cluster_size."""
    return wh.rows(
        "select source, source_id, customer_id, match_rule, match_score, cluster_size from core.identity_map "
        "order by all"
    )


def resolved(wh: Warehouse, day: date) -> tuple[DedupeResult, list[tuple], list[tuple]]:
    """Dedupe as of day incrementally, then the same day from scratch: the result and both identity maps
    (the golden records of both compared here)."""
    result = dedupe_all(wh, config(), day, f"run-{day}")
    kept, customers = identity(wh), wh.rows("select * from core.customers order by all")
    scratch = dedupe_all(wh, config(), day, f"scratch-{day}", rebuild=True)
    assert scratch.touched_records is None and scratch.graph_fallback == "a full refresh links every record"
    assert wh.rows("select * from core.customers order by all") == customers
    return result, kept, identity(wh)


def test_a_merge_and_a_split_re_resolve_their_components_and_leave_the_others(wh: Warehouse) -> None:
    customer(wh, "crm", "m1", date(2025, 12, 1), email="a@x.com")
    customer(wh, "web", "w1", date(2025, 12, 2), email="A@x.com")
    customer(wh, "crm", "m2", date(2025, 12, 3), phone=PHONE)
    customer(wh, "web", "w2", date(2025, 12, 4), phone=PHONE)
    customer(wh, "crm", "m5", date(2025, 12, 5), email="u@x.com")
    customer(wh, "web", "w5", date(2025, 12, 6), email="u@x.com")
    first = dedupe_all(wh, config(), DAY1, "run-1")
    assert first.graph_fallback == "the last run's inputs are not kept" and first.touched_records is None
    untouched = [
        ("crm", "m5", U, "exact:email", 1.0, 2),
        ("web", "w5", U, "exact:email", 1.0, 2),
    ]
    assert identity(wh) == sorted(
        [
            ("crm", "m1", A, "exact:email", 1.0, 2),
            ("web", "w1", A, "exact:email", 1.0, 2),
            ("crm", "m2", B, "exact:phone", 1.0, 2),
            ("web", "w2", B, "exact:phone", 1.0, 2),
            *untouched,
        ]
    )

    # a new record with A's e-mail and B's phone merges them: A was first seen earlier and survives
    customer(wh, "crm", "m9", DAY2, email="a@x.com", phone=PHONE)
    second, kept, scratch = resolved(wh, DAY2)
    assert second.graph_fallback is None
    assert second.touched_records == 5  # m9, the holders of its keys; m5 and w5 untouched
    merged = [
        ("crm", "m1", A, "exact:email", 1.0, 5),
        ("crm", "m2", A, "exact:phone", 1.0, 5),
        ("crm", "m9", A, "exact:email", 1.0, 5),
        ("web", "w1", A, "exact:email", 1.0, 5),
        ("web", "w2", A, "exact:phone", 1.0, 5),
    ]
    assert kept == sorted([*merged, *untouched]) == scratch
    assert wh.rows(
        "select run_id, merged_customer_id, surviving_customer_id, records from core.merge_history"
    ) == [("run-2026-01-02", B, A, 2)]
    assert (second.records, second.customers) == (7, 2)

    # m9 loses its phone: m2 and w2 split off and B (merged away) is revived for them
    customer(wh, "crm", "m9", DAY2, email="a@x.com", updated_at=None)
    third, kept, scratch = resolved(wh, DAY3)
    assert third.graph_fallback is None and third.touched_records == 5
    split = [
        ("crm", "m1", A, "exact:email", 1.0, 3),
        ("crm", "m2", B, "exact:phone", 1.0, 2),
        ("crm", "m9", A, "exact:email", 1.0, 3),
        ("web", "w1", A, "exact:email", 1.0, 3),
        ("web", "w2", B, "exact:phone", 1.0, 2),
    ]
    assert kept == sorted([*split, *untouched]) == scratch
    assert wh.rows("select run_id, customer_id, new_customer_id, records from core.split_history") == [
        ("run-2026-01-03", A, B, 2)
    ]
    assert wh.rows("select status, merged_into from core.customer_ids where customer_id = ?", [B]) == [
        ("active", None)
    ]

    # nothing new: nothing touched, every row kept
    again = dedupe_all(wh, config(), DAY3, "run-again")
    assert (again.graph_fallback, again.touched_records) == (None, 0)
    assert identity(wh) == kept


def test_a_backfill_links_every_record_and_the_next_forward_run_too(wh: Warehouse) -> None:
    customer(wh, "crm", "m1", date(2025, 12, 1), email="a@x.com")
    customer(wh, "web", "w1", DAY2, email="a@x.com")
    dedupe_all(wh, config(), DAY2, "run-2")
    backfill = dedupe_all(wh, config(), DAY1, "backfill")
    assert backfill.graph_fallback == "a backfill links every record"
    assert identity(wh) == [("crm", "m1", A, "singleton", None, 1)]
    forward = dedupe_all(wh, config(), DAY2, "run-2-again")
    assert forward.graph_fallback == "no kept record graph"
    assert identity(wh) == [("crm", "m1", A, "exact:email", 1.0, 2), ("web", "w1", A, "exact:email", 1.0, 2)]
    assert dedupe_all(wh, config(), DAY3, "run-3").graph_fallback is None
