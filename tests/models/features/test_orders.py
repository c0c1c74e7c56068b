"""Model tests of features/orders: purchases netted into orders, point in time, local dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from tasks.features import currency_params
from tasks.shared.config.pipeline import CurrencyConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, create, local

TRANSACTION_COLUMNS = (
    "source varchar, _file varchar, _row bigint, txn_id varchar, order_id varchar, ts timestamptz, "
    "amount decimal(18,2), status varchar, record_source varchar, record_id varchar, currency varchar"
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
    currency: str | None = None,
) -> tuple:
    return ("pay", "pay.csv", row, txn_id, order_id, ts, Decimal(amount), status, "crm", record_id, currency)


def build_orders(
    wh: Warehouse, transactions: Sequence[tuple], currency: CurrencyConfig | None = None, scale: int = 2
) -> None:
    """features.orders over core.transactions as build_features builds it (amounts with scale decimals)."""
    create(
        wh,
        "core.transactions",
        TRANSACTION_COLUMNS.replace("(18,2)", f"({16 + scale},{scale})"),
        transactions,
    )
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("crm", "m1", "C1"), ("crm", "m2", "C2")],
    )
    params = {"cutoff": ORDERS_CUTOFF, **currency_params(currency or CurrencyConfig())}
    fragments = {"scale": str(scale), "amount_type": f"decimal(38,{scale})"}
    wh.build(
        "features.orders",
        "features/orders",
        params,
        identifiers={"transactions": "core.transactions"},
        fragments=fragments,
    )


def run_orders(wh: Warehouse, transactions: Sequence[tuple]) -> list[tuple]:
    build_orders(wh, transactions)
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


def test_orders_in_other_currencies_are_converted_or_kept_apart_never_summed(wh: Warehouse) -> None:
    # 1 USD = 7.1 CNY; EUR has no rate: its orders count as purchases but have no net amount
    build_orders(
        wh,
        [
            txn(1, "t1", "o1", "2026-01-02 10:00:00+08", "100.00"),  # no currency: the base (CNY)
            txn(2, "t2", "o2", "2026-01-02 11:00:00+08", "12.34", currency="USD"),  # 87.614 -> 87.61
            txn(3, "t3", "o2", "2026-01-03 11:00:00+08", "-2.00", "refunded", currency="USD"),  # -14.20
            txn(4, "t4", "o3", "2026-01-02 12:00:00+08", "50.00", currency="EUR"),
            txn(5, "t5", "o4", "2026-01-02 13:00:00+08", "10.00", currency="CNY"),
            txn(
                6, "t6", "o5", "2026-01-02 14:00:00+08", "5.00", currency="EUR"
            ),  # an order in two currencies
            txn(7, "t7", "o5", "2026-01-02 14:05:00+08", "5.00", currency="CNY"),
        ],
        CurrencyConfig(base="CNY", rates={"USD": Decimal("7.1")}),
    )
    assert wh.rows(
        "select order_key, net_amount, currency, purchase, transactions, unconverted "
        "from features.orders order by order_key"
    ) == [
        ("o1", Decimal("100.00"), "CNY", True, 1, 0),
        ("o2", Decimal("73.41"), "USD", True, 2, 0),
        ("o3", None, "EUR", True, 1, 1),
        ("o4", Decimal("10.00"), "CNY", True, 1, 0),
        ("o5", None, None, False, 2, 1),  # 5 EUR + 5 CNY: neither a sum nor a purchase
    ]
    assert wh.rows(
        "select column_name, column_type from (describe features.orders) where column_name = 'net_amount'"
    ) == [("net_amount", "DECIMAL(38,2)")]


def test_orders_keep_the_decimals_of_the_amounts(wh: Warehouse) -> None:
    # amount_scale 3: 12.345 stays 12.345 (nothing is rounded to cents)
    build_orders(
        wh,
        [
            txn(1, "t1", "o1", "2026-01-02 10:00:00+08", "12.345"),
            txn(2, "t2", "o1", "2026-01-02 10:05:00+08", "0.004"),
        ],
        scale=3,
    )
    assert wh.rows("select order_key, net_amount from features.orders") == [("o1", Decimal("12.349"))]
