"""Model tests of features/orders: purchases netted into orders, point in time, local dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, create, local

TRANSACTION_COLUMNS = (
    "source varchar, _file varchar, _row bigint, txn_id varchar, order_id varchar, ts timestamptz, "
    "amount decimal(18,2), status varchar, record_source varchar, record_id varchar"
)


ORDERS_CUTOFF = datetime(2026, 1, 11, tzinfo=SHANGHAI)  # end of as_of 2026-01-10


def txn(
    row: int,
    txn_id: str | None,
    order_id: str | None,
    ts: str,
    amount: str,
    status: str | None = "paid",
    record_id: str = "m1",
) -> tuple:
    return ("pay", "pay.csv", row, txn_id, order_id, ts, Decimal(amount), status, "crm", record_id)


def run_orders(wh: Warehouse, transactions: Sequence[tuple]) -> list[tuple]:
    create(wh, "core.transactions", TRANSACTION_COLUMNS, transactions)
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("crm", "m1", "C1"), ("crm", "m2", "C2")],
    )
    wh.build("features.orders", "features/orders", {"cutoff": ORDERS_CUTOFF})
    return wh.rows(
        "select source, order_key, customer_id, order_ts, order_date, net_amount, transactions "
        "from features.orders order by source, order_key"
    )


def test_orders_refund_is_netted_into_its_order(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o1", "2026-01-01 10:00:00+08", "100.00"),
            txn(2, "t2", "o1", "2026-01-05 10:00:00+08", "-30.00", "refunded"),
        ],
    )
    assert rows == [
        ("pay", "o1", "C1", local(date(2026, 1, 1), "10:00:00"), date(2026, 1, 1), Decimal("70.00"), 2),
    ]


def test_orders_refunded_row_with_positive_amount_counts_as_negative(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o2", "2026-01-02 09:00:00+08", "50.00"),
            txn(2, "t2", "o2", "2026-01-03 09:00:00+08", "20.00", "refunded"),
        ],
    )
    assert rows == [
        ("pay", "o2", "C1", local(date(2026, 1, 2), "09:00:00"), date(2026, 1, 2), Decimal("30.00"), 2),
    ]


def test_orders_failed_and_pending_rows_do_not_count(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o3", "2026-01-02 12:00:00+08", "40.00", "failed"),
            txn(2, "t2", "o3", "2026-01-02 12:05:00+08", "40.00", "paid"),
            txn(3, "t3", "o4", "2026-01-02 13:00:00+08", "25.00", "pending"),
            txn(4, "t4", "o5", "2026-01-02 14:00:00+08", "25.00", "failed"),
        ],
    )
    assert rows == [
        ("pay", "o3", "C1", local(date(2026, 1, 2), "12:05:00"), date(2026, 1, 2), Decimal("40.00"), 1),
    ]


def test_orders_cancelled_after_purchase_nets_to_zero(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o6", "2026-01-04 08:00:00+08", "60.00", record_id="m2"),
            txn(2, "t2", "o6", "2026-01-04 09:00:00+08", "60.00", "cancelled", record_id="m2"),
        ],
    )
    assert rows == [
        ("pay", "o6", "C2", local(date(2026, 1, 4), "08:00:00"), date(2026, 1, 4), Decimal("0.00"), 2),
    ]


def test_orders_are_point_in_time(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t1", "o7", "2026-01-10 23:59:59+08", "5.00"),  # last second of as_of: counts
            txn(2, "t2", "o8", "2026-01-11 00:00:00+08", "10.00"),  # at the cutoff: not yet
            txn(3, "t3", "o7", "2026-01-12 09:00:00+08", "-5.00", "refunded"),  # refund after the cutoff
        ],
    )
    assert rows == [
        ("pay", "o7", "C1", local(date(2026, 1, 10), "23:59:59"), date(2026, 1, 10), Decimal("5.00"), 1),
    ]


def test_orders_row_without_order_id_is_its_own_order(wh: Warehouse) -> None:
    rows = run_orders(
        wh,
        [
            txn(1, "t12", None, "2026-01-06 10:00:00+08", "15.00", None),  # no status counts as paid
            txn(2, "t13", None, "2026-01-06 11:00:00+08", "16.00"),
            txn(3, None, None, "2026-01-06 12:00:00+08", "17.00"),  # neither: keyed by file position
        ],
    )
    assert rows == [
        (
            "pay",
            "pay.csv:3",
            "C1",
            local(date(2026, 1, 6), "12:00:00"),
            date(2026, 1, 6),
            Decimal("17.00"),
            1,
        ),
        ("pay", "t12", "C1", local(date(2026, 1, 6), "10:00:00"), date(2026, 1, 6), Decimal("15.00"), 1),
        ("pay", "t13", "C1", local(date(2026, 1, 6), "11:00:00"), date(2026, 1, 6), Decimal("16.00"), 1),
    ]


def test_order_date_is_the_local_date_in_the_warehouse_time_zone(wh: Warehouse) -> None:
    rows = run_orders(wh, [txn(1, "t1", "o9", "2026-01-01 17:30:00+00", "80.00")])
    assert rows == [
        ("pay", "o9", "C1", datetime(2026, 1, 1, 17, 30, tzinfo=UTC), date(2026, 1, 2), Decimal("80.00"), 1),
    ]
