"""Incremental orders: features.orders kept up to date over consecutive days equals a rebuild, exactly.

Two warehouses receive the same staged transactions day after day, as extract leaves them: new files,
rows dated after the day (read once their day comes), late rows and a refund of an old order, records
merging and a new record of a customer (the identity map changes between days), a file read again with a
changed row, and a backfill of an earlier day. One brings features.orders up to date (tasks/features/
orders.py), the other rebuilds it every day; features.orders and features.customer_features of both must
be equal, row for row, and each day's orders are also checked against the values written out by hand.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tasks.features import build_features
from tasks.features.orders import ORDERS_VERSION
from tasks.shared.config import FeatureConfig
from tasks.shared.contracts import ID_FIELDS
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create, local, lookups

DAY1 = date(2026, 3, 1)
CONFIG = FeatureConfig()
TXN_COLUMNS = ("txn_id", "order_id", "customer_ref", "email", "ts", "amount", "status")


def day(n: int) -> date:
    """The n-th day of the scenario (day(1) is DAY1)."""
    return DAY1 + timedelta(days=n - 1)


def txn(
    txn_id: str | None,
    order_id: str | None,
    ref: str | None,
    when: datetime,
    amount: str,
    status: str | None = "paid",
    email: str | None = None,
) -> tuple:
    """A staged transaction: (txn_id, order_id, customer_ref, email, ts, amount, status)."""
    return (txn_id, order_id, ref, email, when, Decimal(amount), status)


@dataclass
class Staged:
    """A warehouse fed as extract feeds staging.transactions and audit.load_state, one load at a time."""

    wh: Warehouse
    loads: int = 0

    def load(self, source: str, file: str, rows: Sequence[tuple]) -> None:
        """A new file loaded: its rows staged, its load recorded."""
        self.loads += 1
        for number, row in enumerate(rows, start=1):
            values = dict(zip(TXN_COLUMNS, row, strict=True))
            columns = ", ".join(["source", "_file", "_row", *values])
            marks = ", ".join("?" for _ in range(3 + len(values)))
            self.wh.execute(
                f"insert into staging.transactions ({columns}) values ({marks})",
                [source, file, number, *values.values()],
            )
        self.wh.execute(
            "insert into audit.load_state (source, file, file_hash, size, mtime_ns, watermark, config_fingerprint, "
            "loaded_at, run_id) values (?, ?, ?, 1, 1, null, 'cfg', now(), ?)",
            [source, file, f"hash-{self.loads}", f"run-{self.loads}"],
        )

    def reread(self, source: str, file: str, rows: Sequence[tuple]) -> None:
        """A changed file read again: its old rows and load forgotten, the new content staged."""
        self.wh.execute("delete from staging.transactions where source = ? and _file = ?", [source, file])
        self.wh.execute("delete from audit.load_state where source = ? and file = ?", [source, file])
        self.load(source, file, rows)

    def resolve(self, identity: Sequence[tuple]) -> None:
        """Dedupe's output of the day: the identity map and the customers."""
        create(
            self.wh, "core.identity_map", "source varchar, source_id varchar, customer_id varchar", identity
        )
        create(
            self.wh,
            "core.customers",
            "customer_id varchar, first_seen timestamptz, marketing_consent boolean",
            [(c, local(DAY1 - timedelta(days=400)), True) for c in sorted({row[2] for row in identity})],
        )


def warehouse() -> Staged:
    """A warehouse with the lookups, source links and fact views dedupe leaves (no rows staged yet)."""
    wh = Warehouse(":memory:")
    lookups(wh, {"a@x.cn": "a@x.cn"}, {})
    wh.build(
        "core.source_links",
        "core/source_links",
        {"sources": ["crm", "shop"], "customer_sources": [None, "crm"]},
    )
    for kind in ("transactions", "events", "feedback"):
        wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": ID_FIELDS[kind]})
    return Staged(wh)


@pytest.fixture
def pair() -> Iterator[tuple[Staged, Staged]]:
    """Two warehouses fed the same rows: one refreshed incrementally, one rebuilt every run."""
    incremental, rebuilt = warehouse(), warehouse()
    yield incremental, rebuilt
    incremental.wh.close()
    rebuilt.wh.close()


def both(pair: tuple[Staged, Staged], step: str, *args: object) -> None:
    """Apply the same change to both warehouses."""
    for staged in pair:
        getattr(staged, step)(*args)


ORDER_COLUMNS = "source, order_key, customer_id, order_date, net_amount, transactions, purchase"


def orders(staged: Staged) -> list[tuple]:
    """features.orders, ordered: every column."""
    return staged.wh.rows("select * from features.orders order by source, order_key")


def run_day(pair: tuple[Staged, Staged], as_of: date, expected_mode: str) -> list[tuple]:
    """One daily run on both: the incremental orders and features equal the rebuilt ones; the orders'
    main columns are returned for exact checks."""
    incremental, rebuilt = pair
    refresh = build_features(incremental.wh, CONFIG, as_of)["orders_refresh"]
    assert refresh["mode"] == expected_mode, refresh
    assert build_features(rebuilt.wh, CONFIG, as_of, rebuild=True)["orders_refresh"]["mode"] == "rebuilt"
    assert orders(incremental) == orders(rebuilt)
    features = "select * from features.customer_features order by customer_id"
    assert incremental.wh.rows(features) == rebuilt.wh.rows(features)
    return incremental.wh.rows(f"select {ORDER_COLUMNS} from features.orders order by source, order_key")


IDENTITY = [("crm", "m1", "C1"), ("crm", "m2", "C2"), ("crm", "m3", "C3"), ("shop", "email:a@x.cn", "C4")]


def test_incremental_orders_equal_a_rebuild_day_after_day(pair: tuple[Staged, Staged]) -> None:
    # day 1: the history; o3's refund and o4 lie after day 1 (not counted then)
    both(pair, "resolve", IDENTITY)
    both(
        pair,
        "load",
        "shop",
        "shop/history.csv",
        [
            txn("t1", "o1", "m1", local(day(1) - timedelta(days=40)), "100.00"),
            txn("t2", "o2", "m2", local(day(1) - timedelta(days=10)), "50.00"),
            txn("t3", "o3", "m3", local(day(1), "23:59:59"), "80.00"),
            txn("t4", "o3", "m3", local(day(2), "09:00:00"), "80.00", "refunded"),
            txn("t5", "o4", "m1", local(day(3)), "30.00"),
            txn("t6", None, None, local(day(1) - timedelta(days=2)), "12.50", email="a@x.cn"),
            txn("t7", "o5", "m2", local(day(1) - timedelta(days=3)), "20.00", "failed"),
        ],
    )
    assert run_day(pair, day(1), "rebuilt") == [  # no kept orders yet
        ("shop", "o1", "C1", day(1) - timedelta(days=40), Decimal("100.00"), 1, True),
        ("shop", "o2", "C2", day(1) - timedelta(days=10), Decimal("50.00"), 1, True),
        ("shop", "o3", "C3", day(1), Decimal("80.00"), 1, True),
        ("shop", "t6", "C4", day(1) - timedelta(days=2), Decimal("12.50"), 1, True),
    ]

    # day 2: o3's refund (staged on day 1) comes into the day; a new file with the day's order and a late
    # refund of an old order
    both(
        pair,
        "load",
        "shop",
        "shop/day-2.csv",
        [
            txn("t8", "o6", "m2", local(day(2)), "40.00"),
            txn("t9", "o1", "m1", local(day(1) - timedelta(days=1)), "-25.00", "refunded"),  # late
        ],
    )
    assert run_day(pair, day(2), "incremental") == [
        ("shop", "o1", "C1", day(1) - timedelta(days=40), Decimal("75.00"), 2, True),
        ("shop", "o2", "C2", day(1) - timedelta(days=10), Decimal("50.00"), 1, True),
        ("shop", "o3", "C3", day(1), Decimal("0.00"), 2, False),
        ("shop", "o6", "C2", day(2), Decimal("40.00"), 1, True),
        ("shop", "t6", "C4", day(1) - timedelta(days=2), Decimal("12.50"), 1, True),
    ]
    assert run_day(pair, day(2), "unchanged")[3] == ("shop", "o6", "C2", day(2), Decimal("40.00"), 1, True)

    # day 3: C3 merges into C1 and the e-mail record becomes C2's; o4 (staged on day 1) comes into the day
    merged = [("crm", "m1", "C1"), ("crm", "m2", "C2"), ("crm", "m3", "C1"), ("shop", "email:a@x.cn", "C2")]
    both(pair, "resolve", merged)
    assert run_day(pair, day(3), "incremental") == [
        ("shop", "o1", "C1", day(1) - timedelta(days=40), Decimal("75.00"), 2, True),
        ("shop", "o2", "C2", day(1) - timedelta(days=10), Decimal("50.00"), 1, True),
        ("shop", "o3", "C1", day(1), Decimal("0.00"), 2, False),
        ("shop", "o4", "C1", day(3), Decimal("30.00"), 1, True),
        ("shop", "o6", "C2", day(2), Decimal("40.00"), 1, True),
        ("shop", "t6", "C2", day(1) - timedelta(days=2), Decimal("12.50"), 1, True),
    ]

    # day 4: m2 leaves the map (its orders go), a new record m4 of C1 with an order of the day; a day
    # skipped (no run on day 4) before day 5: the rows of both days come in
    later = [("crm", "m1", "C1"), ("crm", "m3", "C1"), ("crm", "m4", "C1"), ("shop", "email:a@x.cn", "C2")]
    both(pair, "resolve", later)
    both(
        pair,
        "load",
        "shop",
        "shop/day-4.csv",
        [txn("t10", "o7", "m4", local(day(4)), "9.99"), txn("t11", "o8", "m1", local(day(5)), "5.00")],
    )
    assert run_day(pair, day(5), "incremental") == [
        ("shop", "o1", "C1", day(1) - timedelta(days=40), Decimal("75.00"), 2, True),
        ("shop", "o3", "C1", day(1), Decimal("0.00"), 2, False),
        ("shop", "o4", "C1", day(3), Decimal("30.00"), 1, True),
        ("shop", "o7", "C1", day(4), Decimal("9.99"), 1, True),
        ("shop", "o8", "C1", day(5), Decimal("5.00"), 1, True),
        ("shop", "t6", "C2", day(1) - timedelta(days=2), Decimal("12.50"), 1, True),
    ]

    # day 6: a file read again with a changed row: rebuilt
    both(pair, "reread", "shop", "shop/day-4.csv", [txn("t10", "o7", "m4", local(day(4)), "19.99")])
    assert run_day(pair, day(6), "rebuilt")[3] == ("shop", "o7", "C1", day(4), Decimal("19.99"), 1, True)

    # a backfill of an earlier day: the kept orders are netted as of a later day, so they are rebuilt
    incremental = pair[0]
    refresh = build_features(incremental.wh, CONFIG, day(2))["orders_refresh"]
    assert (refresh["mode"], refresh["reason"]) == (
        "rebuilt",
        f"the kept orders are netted as of {day(6)}, after {day(2)}",
    )
    assert build_features(incremental.wh, CONFIG, day(3))["orders_refresh"]["mode"] == "incremental"


def test_orders_are_rebuilt_when_their_settings_change(pair: tuple[Staged, Staged]) -> None:
    staged, _ = pair
    staged.resolve(IDENTITY)
    staged.load("shop", "shop/a.csv", [txn("t1", "o1", "m1", local(day(1)), "10.00")])
    build_features(staged.wh, CONFIG, day(1), record_config="one")
    assert (
        build_features(staged.wh, CONFIG, day(1), record_config="one")["orders_refresh"]["mode"]
        == "unchanged"
    )
    refresh = build_features(staged.wh, CONFIG, day(1), record_config="two")["orders_refresh"]
    assert (refresh["mode"], refresh["reason"]) == (
        "rebuilt",
        "what maps a transaction to its order changed (the core.transactions view, lookups or currency)",
    )
    staged.wh.execute("update features.order_state set version = ?", [ORDERS_VERSION - 1])
    assert (
        build_features(staged.wh, CONFIG, day(1), record_config="two")["orders_refresh"]["mode"] == "rebuilt"
    )
    staged.wh.execute("update features.order_state set timezone = 'UTC'")
    assert (
        build_features(staged.wh, CONFIG, day(1), record_config="two")["orders_refresh"]["mode"] == "rebuilt"
    )
    assert (
        build_features(staged.wh, CONFIG, day(1), record_config="two")["orders_refresh"]["mode"]
        == "unchanged"
    )
