"""Model tests of the staging templates: raw rows checked and typed, repeated ids marked, erased rows found."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from tasks.extract import create_tables
from tasks.extract.duplicates import mark_duplicates
from tasks.extract.staging import build_checked
from tasks.shared.config import SourceConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create, stage

RAW_COLUMNS = (
    "_source varchar, _file varchar, _row bigint, _loaded_at timestamptz, _run_id varchar, "
    "txn varchar, member varchar, created varchar, amount varchar, state varchar"
)
PAYMENTS = SourceConfig(
    name="pay",
    kind="transactions",
    format="csv",
    path="pay/*.csv",
    columns={
        "txn_id": "txn",
        "customer_ref": "member",
        "ts": "created",
        "amount": "amount",
        "status": "state",
    },
)
LOADED = datetime(2026, 1, 2, tzinfo=UTC)
FUTURE_LIMIT = datetime(2026, 1, 3, tzinfo=UTC)


def raw(
    row: int,
    txn: str | None,
    member: str | None,
    created: str | None,
    amount: str | None,
    state: str | None,
    run_id: str = "run-1",
) -> tuple:
    return ("pay", "pay.csv", row, LOADED, run_id, txn, member, created, amount, state)


def check(wh: Warehouse, rows: Sequence[tuple], *, all_rows: bool = False) -> list[tuple]:
    """Build _checked over raw.pay as stage_rows does (build_checked); its rows by _row."""
    create(wh, "raw.pay", RAW_COLUMNS, rows)
    params = {"run_id": "run-1", "all_rows": all_rows, "tz": "Asia/Shanghai", "future_limit": FUTURE_LIMIT}
    build_checked(wh, PAYMENTS, params)
    return wh.rows(
        "select _file, _row, txn_id, customer_ref, ts, amount, status, _reason, _id, _duplicate_of "
        "from _checked order by _row"
    )


def test_checked_types_the_mapped_values_and_gives_each_failed_check(wh: Warehouse) -> None:
    rows = check(
        wh,
        [
            raw(1, "T1", "m1", "2026-01-01 10:00:00", " 12.50 ", "PAID"),
            raw(2, "T2", "m2", "yesterday", "abc", "paid"),
            raw(3, "T3", None, "2026-01-01T00:00:00Z", "5", "lost"),
            raw(4, "T4", "m4", "2026-02-01 00:00:00+08", None, "paid"),
            raw(5, "T5", "m5", "2026-01-01 10:00:00", "1", "paid", run_id="run-0"),  # another run's row
        ],
    )
    assert rows == [
        (
            "pay.csv",
            1,
            "T1",
            "m1",
            datetime(2026, 1, 1, 2, tzinfo=UTC),
            Decimal("12.50"),
            "paid",
            None,
            "T1",
            None,
        ),
        (
            "pay.csv",
            2,
            "T2",
            "m2",
            None,
            None,
            "paid",
            "field ts: 'yesterday' is not a valid timestamptz; field amount: 'abc' is not a valid decimal(18,2)",
            "T2",
            None,
        ),
        (
            "pay.csv",
            3,
            "T3",
            None,
            datetime(2026, 1, 1, tzinfo=UTC),
            Decimal("5.00"),
            "lost",
            "field status: 'lost' is not one of paid, refunded, cancelled, failed, pending; "
            "no customer reference: customer_ref all empty",
            "T3",
            None,
        ),
        (
            "pay.csv",
            4,
            "T4",
            "m4",
            datetime(2026, 1, 31, 16, tzinfo=UTC),
            None,
            "paid",
            "field ts: 2026-02-01 00:00:00+08 is in the future; field amount: missing",
            "T4",
            None,
        ),
    ]


def test_checked_reads_every_raw_row_of_the_source_when_restaging(wh: Warehouse) -> None:
    rows = check(
        wh,
        [raw(1, "T1", "m1", "2026-01-01 10:00:00", "1", "paid", run_id="run-0")],
        all_rows=True,
    )
    assert [(r[1], r[2], r[7]) for r in rows] == [(1, "T1", None)]


def test_first_row_of_an_id_wins_later_copies_are_duplicates_and_other_values_conflicts(
    wh: Warehouse,
) -> None:
    create_tables(wh)
    stage(wh, "transactions", [{"source": "pay", "_file": "old.csv", "_row": 7, "txn_id": "T9", "amount": 3}])
    check(
        wh,
        [
            raw(1, "T1", "m1", "2026-01-01 10:00:00", "1", "paid"),
            raw(2, "T1", "m1", "2026-01-01 10:00:00", "1", "paid"),
            raw(3, "T1", "m1", "2026-01-01 10:00:00", "2", "paid"),
            raw(4, "T9", None, None, "3", None),  # fails its checks: never a duplicate
            raw(5, "T9", "m9", "2026-01-01 10:00:00", "3", "paid"),
        ],
    )
    mark_duplicates(wh, PAYMENTS)
    assert wh.rows("select _row, _reason, _duplicate_of from _checked order by _row") == [
        (1, None, None),
        (2, None, {"file": "pay.csv", "row": 1}),
        (3, "duplicate txn_id 'T1' with other values than pay.csv row 1", None),
        (4, "field ts: missing; no customer reference: customer_ref all empty", None),
        (5, "duplicate txn_id 'T9' with other values than old.csv row 7", None),
    ]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_erased_rows_are_found_by_record_key_email_and_written_keys(wh: Warehouse) -> None:
    create_tables(wh)
    create(
        wh,
        "audit.erased_identifiers",
        "kind varchar, value_sha256 varchar, erased_at timestamptz",
        [
            ("record", sha("crm|m1"), LOADED),
            ("email", sha("b@x.cn"), LOADED),
            ("written", sha("139"), LOADED),
        ],
    )
    stage(
        wh,
        "customers",
        [
            {"source": "crm", "_file": "crm.csv", "_row": 1, "source_id": "m1"},
            {"source": "crm", "_file": "crm.csv", "_row": 2, "source_id": "m2", "email": " B@x.cn "},
            {"source": "crm", "_file": "crm.csv", "_row": 3, "source_id": "m3", "phone": "139 "},
            {"source": "crm", "_file": "crm.csv", "_row": 4, "source_id": "m4", "email": "c@x.cn"},
        ],
    )
    stage(
        wh,
        "transactions",
        [
            {"source": "pay", "_file": "pay.csv", "_row": 1, "customer_ref": "m1"},
            {"source": "pay", "_file": "pay.csv", "_row": 2, "customer_ref": "m4", "device_id": "139"},
            {"source": "pay", "_file": "pay.csv", "_row": 3, "customer_ref": "m4"},
            {"source": "shop", "_file": "shop.csv", "_row": 1, "customer_ref": "m1"},
        ],
    )
    customers = wh.model_sql("staging/erased_rows", {"kind": "customers", "record_id": "source_id"})
    assert wh.rows(f"{customers} order by row", {"source": None, "record_source": None}) == [
        ("crm", "crm.csv", 1),
        ("crm", "crm.csv", 2),
        ("crm", "crm.csv", 3),
    ]
    facts = wh.model_sql("staging/erased_rows", {"kind": "transactions", "record_id": "customer_ref"})
    assert wh.rows(f"{facts} order by row", {"source": "pay", "record_source": "crm"}) == [
        ("pay", "pay.csv", 1),
        ("pay", "pay.csv", 2),
    ]
    # shop's customer_ref points into shop itself: m1 there is another person
    assert wh.rows(facts, {"source": "shop", "record_source": "shop"}) == []


RETAIL_COLUMNS = (
    "_source varchar, _file varchar, _row bigint, _loaded_at timestamptz, _run_id varchar, "
    '"InvoiceNo" varchar, "StockCode" varchar, "Quantity" varchar, "InvoiceDate" varchar, '
    '"UnitPrice" varchar, "CustomerID" varchar'
)
RETAIL = SourceConfig(
    name="retail",
    kind="transactions",
    format="csv",
    path="retail.csv",
    columns={
        "txn_id": "InvoiceNo || '-' || StockCode",
        "customer_ref": "CustomerID",
        "amount": "Quantity * UnitPrice",
        "ts": "strptime(InvoiceDate, '%m/%d/%Y %H:%M')",
        "status": "case when Quantity < 0 then 'cancelled' else 'paid' end",
    },
)


def test_text_columns_in_arithmetic_are_numbers_and_a_cell_that_fails_quarantines_its_row(
    wh: Warehouse,
) -> None:
    rows = [
        ("536365", "00123", "6", "12/1/2010 8:26", "2.55", "017850"),
        ("536366", "71053", "x", "12/1/2010 8:28", "3.39", "17850"),
        ("536367", "84406B", "8", "13/45/2010 8:34", "2.75", "17850"),
        ("C536368", "22633", "-2", "12/1/2010 9:41", "1.85", None),
    ]
    create(
        wh,
        "raw.retail",
        RETAIL_COLUMNS,
        [("retail", "r.csv", i, LOADED, "run-1", *r) for i, r in enumerate(rows, 1)],
    )
    params = {"run_id": "run-1", "all_rows": False, "tz": "Asia/Shanghai", "future_limit": FUTURE_LIMIT}
    build_checked(wh, RETAIL, params)  # two mappings read Quantity as a number: each fails on its own
    assert wh.rows(
        "select _row, txn_id, customer_ref, amount, ts, status, _reason from _checked order by _row"
    ) == [
        (
            1,
            "536365-00123",
            "017850",
            Decimal("15.30"),
            datetime(2010, 12, 1, 0, 26, tzinfo=UTC),
            "paid",
            None,
        ),
        (
            2,
            "536366-71053",
            "17850",
            None,
            datetime(2010, 12, 1, 0, 28, tzinfo=UTC),
            "paid",  # compared with a number, 'x' is simply not below 0
            "field amount: Quantity * UnitPrice fails for Quantity 'x', UnitPrice '3.39'",
        ),
        (
            3,
            "536367-84406B",
            "17850",
            Decimal("22.00"),
            None,
            "paid",
            "field ts: strptime(InvoiceDate, '%m/%d/%Y %H:%M') fails for InvoiceDate '13/45/2010 8:34'",
        ),
        (
            4,
            "C536368-22633",
            None,
            Decimal("-3.70"),
            datetime(2010, 12, 1, 1, 41, tzinfo=UTC),
            "cancelled",
            "no customer reference: customer_ref all empty",
        ),
    ]
