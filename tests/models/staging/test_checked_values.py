"""Model tests of the staging check on values: local times, finite numbers, exact money, rows of nobody."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from tasks.dedupe.birth_dates import normalize_birth_date
from tasks.extract.staging import build_checked, stage_unattributed
from tasks.extract.time_checks import date_sql
from tasks.shared.config import SourceConfig
from tasks.shared.contracts import CANONICAL_FIELDS
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

LOADED = datetime(2026, 3, 2, tzinfo=UTC)
FUTURE_LIMIT = datetime(2026, 3, 3, tzinfo=UTC)


def check(
    wh: Warehouse,
    source: SourceConfig,
    columns: Sequence[str],
    rows: Sequence[tuple],
    tz: str = "Asia/Shanghai",
    date_order: str = "reject",
) -> list[dict[str, Any]]:
    """Build _checked over raw.<source> (text columns `columns`, one row per tuple) as stage_rows does."""
    lineage = "_source varchar, _file varchar, _row bigint, _loaded_at timestamptz, _run_id varchar"
    create(
        wh,
        f"raw.{source.name}",
        ", ".join([lineage, *(f'"{c}" varchar' for c in columns)]),
        [(source.name, "f.csv", i, LOADED, "run-1", *row) for i, row in enumerate(rows, 1)],
    )
    params = {"run_id": "run-1", "all_rows": False, "tz": tz, "future_limit": FUTURE_LIMIT}
    build_checked(wh, source, params, date_order=date_order)
    return wh.dicts("select * from _checked order by _row")


# A customers source with an id and a birth date (columns id, b).
BIRTHS = SourceConfig(
    name="crm", kind="customers", format="csv", path="c.csv", columns={"source_id": "id", "birth_date": "b"}
)


def payments(amount_scale: int | None = None, **columns: str) -> SourceConfig:
    """A transactions source over columns id, member, ts, amount (and more mappings)."""
    mapped = {"txn_id": "id", "customer_ref": "member", "ts": "ts", "amount": "amount", **columns}
    return SourceConfig(
        name="pay", kind="transactions", format="csv", path="p.csv", columns=mapped, amount_scale=amount_scale
    )


# --- 6: a source's own time zone, whatever the layout ------------------------------------------------------


def test_local_times_of_any_layout_are_read_in_the_sources_time_zone(wh: Warehouse) -> None:
    source = SourceConfig(
        name="ny",
        kind="events",
        format="csv",
        path="e.csv",
        timezone="America/New_York",
        columns={"event_id": "id", "customer_ref": "member", "ts": "ts"},
    )
    rows = check(
        wh,
        source,
        ["id", "member", "ts"],
        [
            ("E1", "m1", "2026/03/01 23:30:00"),  # read as Shanghai time before (15:30Z)
            ("E2", "m1", "2026-03-01 23:30"),
            ("E3", "m1", "2026-3-1 23:30:00.5"),
            ("E4", "m1", "2026/03/01"),  # a bare date: midnight in New York
            ("E5", "m1", "2026-03-01T23:30:00Z"),  # states its zone: kept
            ("E6", "m1", "2026-03-01 23:30:00+08:00"),
            ("E7", "m1", "2026-03-01 23:30:00 Asia/Tokyo"),
            ("E8", "m1", "2026-03-01 11:30 PM"),  # not read as 11:30 by dropping PM
        ],
        tz="America/New_York",
    )
    assert [(r["event_id"], r["ts"], r["_reason"]) for r in rows] == [
        ("E1", datetime(2026, 3, 2, 4, 30, tzinfo=UTC), None),
        ("E2", datetime(2026, 3, 2, 4, 30, tzinfo=UTC), None),
        ("E3", datetime(2026, 3, 2, 4, 30, 0, 500000, tzinfo=UTC), None),
        ("E4", datetime(2026, 3, 1, 5, 0, tzinfo=UTC), None),
        ("E5", datetime(2026, 3, 1, 23, 30, tzinfo=UTC), None),
        ("E6", datetime(2026, 3, 1, 15, 30, tzinfo=UTC), None),
        ("E7", datetime(2026, 3, 1, 14, 30, tzinfo=UTC), None),
        ("E8", None, "field ts: '2026-03-01 11:30 PM' is not a valid timestamptz"),
    ]


def test_a_strptime_result_is_local_time_in_the_sources_time_zone(wh: Warehouse) -> None:
    source = payments(ts="strptime(ts, '%d.%m.%Y %H:%M')")
    source = source.model_copy(update={"timezone": "America/New_York"})
    data = [("T1", "m1", "01.03.2026 23:30", "1")]
    [row] = check(wh, source, ["id", "member", "ts", "amount"], data, tz="America/New_York")
    assert row["ts"] == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


def test_epoch_seconds_and_milliseconds_through_the_documented_mappings(wh: Warehouse) -> None:
    source = SourceConfig(
        name="app",
        kind="events",
        format="csv",
        path="e.csv",
        timezone="America/New_York",  # an epoch time is an instant: no zone applies
        columns={
            "event_id": "id",
            "customer_ref": "member",
            "ts": "to_timestamp(cast(epoch_s as bigint))",
            "value": "epoch_ms",  # the same instant in milliseconds, kept as a number here
        },
    )
    ms = source.model_copy(
        update={"columns": {**source.columns, "ts": "timezone('UTC', epoch_ms(cast(epoch_ms as bigint)))"}}
    )
    data = [("E1", "m1", "1772407800", "1772407800123"), ("E2", "m1", "17724078OO", "x")]
    seconds = check(wh, source, ["id", "member", "epoch_s", "epoch_ms"], data)
    assert [(r["ts"], r["_reason"]) for r in seconds] == [
        (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), None),
        (
            None,
            "field ts: to_timestamp(cast(epoch_s as bigint)) fails for epoch_s '17724078OO'; "
            "field value: 'x' is not a valid double",
        ),
    ]
    millis = check(wh, ms, ["id", "member", "epoch_s", "epoch_ms"], data)
    assert millis[0]["ts"] == datetime(2026, 3, 1, 23, 30, 0, 123000, tzinfo=UTC)


# --- 7: numbers are finite and in range; times are finite ---------------------------------------------------


NUMBER_FIELDS = [
    (kind, field) for kind, fields in CANONICAL_FIELDS.items() for field, t in fields.items() if t == "double"
]


def fact_source(kind: str, field: str) -> SourceConfig:
    """A source of kind mapping its id, customer_ref, ts and field (from column x)."""
    id_field = {"events": "event_id", "feedback": "feedback_id"}[kind]
    return SourceConfig(
        name="src",
        kind=kind,
        format="csv",
        path="s.csv",
        columns={id_field: "id", "customer_ref": "member", "ts": "ts", field: "x"},
    )


@pytest.mark.parametrize(("kind", "field"), NUMBER_FIELDS, ids=[f"{k}.{f}" for k, f in NUMBER_FIELDS])
def test_every_number_field_quarantines_infinity_nan_and_overflow(
    wh: Warehouse, kind: str, field: str
) -> None:
    values = ["12.5", "inf", "-Infinity", "NaN", "1e400", "1e300", "-2e15", "１２", "1_000", "1e15"]
    rows = check(
        wh,
        fact_source(kind, field),
        ["id", "member", "ts", "x"],
        [(f"R{i}", "m1", "2026-03-01 10:00:00", v) for i, v in enumerate(values, 1)],
    )
    assert [(r[field], r["_reason"]) for r in rows][:1] == [(12.5, None)]
    reasons = [r["_reason"] for r in rows]
    assert reasons[1:] == [
        f"field {field}: 'inf' is not a finite number",
        f"field {field}: '-Infinity' is not a finite number",
        f"field {field}: 'NaN' is not a finite number",
        f"field {field}: '1e400' is not a finite number",  # overflows a double
        f"field {field}: '1e300' is out of range (beyond ±1e+15)",
        f"field {field}: '-2e15' is out of range (beyond ±1e+15)",
        None,  # full-width digits: 12
        f"field {field}: '1_000' is not a valid double",
        # 1e15 is within every number's range; a duration that long is more than 31 days (tasks/extract/number_checks.py)
        f"field {field}: '1e15' is more than 31 days (a stuck session, or milliseconds read as seconds?)"
        if (kind, field) == ("events", "duration_s")
        else None,
    ]
    assert rows[7][field] == 12.0


def test_a_typed_infinite_number_from_a_parquet_or_arithmetic_is_quarantined_too(wh: Warehouse) -> None:
    source = fact_source("events", "duration_s").model_copy(
        update={
            "columns": {"event_id": "id", "customer_ref": "member", "ts": "ts", "duration_s": "x * 1e300"}
        }
    )
    rows = check(wh, source, ["id", "member", "ts", "x"], [("E1", "m1", "2026-03-01 10:00:00", "1e10")])
    assert rows[0]["_reason"] == "field duration_s: 'inf' is not a finite number"


def test_infinite_timestamps_and_dates_are_quarantined(wh: Warehouse) -> None:
    rows = check(
        wh,
        fact_source("events", "value"),
        ["id", "member", "ts", "x"],
        [("E1", "m1", "-infinity", "1"), ("E2", "m1", "infinity", "1")],
    )
    assert [r["_reason"] for r in rows] == [
        "field ts: '-infinity' is not a finite timestamp",
        "field ts: 'infinity' is not a finite timestamp",
    ]
    rows = check(wh, BIRTHS, ["id", "b"], [("1", "-infinity"), ("2", "1990-01-31")])
    assert [r["_reason"] for r in rows] == ["field birth_date: '-infinity' is not a finite date", None]


# --- 8: money read exactly, with its currency -----------------------------------------------------------------


def amounts(
    wh: Warehouse, source: SourceConfig, values: Sequence[str | tuple[str, str | None]]
) -> list[tuple]:
    """(amount, currency, reason) of payments with these amounts (or (amount, currency column))."""
    columns = ["id", "member", "ts", "amount", "cur"]
    data = [("T", "m1", "2026-03-01 10:00:00", *(v if isinstance(v, tuple) else (v, None))) for v in values]
    return [(r["amount"], r["currency"], r["_reason"]) for r in check(wh, source, columns, data)]


def test_amounts_as_chinese_business_systems_write_them_are_read_with_their_currency(wh: Warehouse) -> None:
    assert amounts(
        wh,
        payments(),
        [
            "¥1,234.50",
            "1,234.50元",
            "１２３４．５",
            "￥-3.00",
            "RMB 88",
            "人民币100",
            "$12",
            "US$ 3.5",
            "100美元",
        ],
    ) == [
        (Decimal("1234.50"), "CNY", None),
        (Decimal("1234.50"), "CNY", None),
        (Decimal("1234.50"), None, None),  # no mark: the base currency (features)
        (Decimal("-3.00"), "CNY", None),
        (Decimal("88.00"), "CNY", None),
        (Decimal("100.00"), "CNY", None),
        (Decimal("12.00"), "USD", None),
        (Decimal("3.50"), "USD", None),
        (Decimal("100.00"), "USD", None),
    ]


def test_amounts_are_never_rounded_or_guessed(wh: Warehouse) -> None:
    assert amounts(
        wh, payments(), ["12.345", "0.004", "1_000", "12,5", "1,2345", "(5.00)", "12.500", "1e3"]
    ) == [
        (None, None, "field amount: '12.345' has more decimals than amount_scale 2"),
        (None, None, "field amount: '0.004' has more decimals than amount_scale 2"),
        (None, None, "field amount: '1_000' is not a valid decimal(18,2)"),
        (None, None, "field amount: '12,5' is not a valid decimal(18,2)"),
        (None, None, "field amount: '1,2345' is not a valid decimal(18,2)"),
        (None, None, "field amount: '(5.00)' is not a valid decimal(18,2)"),
        (Decimal("12.50"), None, None),  # trailing zeros are no decimals
        (Decimal("1000.00"), None, None),
    ]


def test_amount_scale_keeps_more_decimals(wh: Warehouse) -> None:
    assert amounts(wh, payments(amount_scale=3), ["12.345", "0.004", "1.2345"]) == [
        (Decimal("12.345"), None, None),
        (Decimal("0.004"), None, None),
        (None, None, "field amount: '1.2345' has more decimals than amount_scale 3"),
    ]


def test_an_amount_from_arithmetic_is_exact_up_to_binary_noise(wh: Warehouse) -> None:
    source = payments(amount="qty * price")
    data = [("6", "2.55"), ("1", "0.001"), ("3", "0.1"), ("1", "inf"), ("24", "0.333")]
    rows = check(
        wh,
        source,
        ["id", "member", "ts", "qty", "price"],
        [("T", "m1", "2026-03-01 10:00:00", q, p) for q, p in data],
    )
    assert [(r["amount"], r["_reason"]) for r in rows] == [
        (Decimal("15.30"), None),  # 6 * 2.55 is 15.299999999999999 in binary
        (None, "field amount: '0.001' has more decimals than amount_scale 2"),
        (Decimal("0.30"), None),  # 0.30000000000000004
        (None, "field amount: 'inf' is not a valid decimal(18,2)"),
        (None, "field amount: '7.992' has more decimals than amount_scale 2"),  # not 7.992000000000001
    ]


def test_a_mapped_currency_is_a_code_or_mark_and_agrees_with_the_amounts_mark(wh: Warehouse) -> None:
    assert amounts(
        wh,
        payments(currency="cur"),
        [
            ("12.00", "usd"),
            ("12.00", "人民币"),
            ("12.00", None),
            ("¥12", None),
            ("12.00", "dollars"),
            ("¥12", "USD"),
        ],
    ) == [
        (Decimal("12.00"), "USD", None),
        (Decimal("12.00"), "CNY", None),
        (Decimal("12.00"), None, None),
        (Decimal("12.00"), "CNY", None),
        (
            Decimal("12.00"),
            None,
            "field currency: 'dollars' is not a currency (a code such as CNY or USD, or ¥, 元, RMB, $)",
        ),
        (Decimal("12.00"), "USD", "field currency: 'USD' but amount '¥12' is in CNY"),
    ]


# --- 9: rows of nobody are unattributed, not bad --------------------------------------------------------------


def test_a_row_without_customer_reference_is_staged_apart_as_unattributed(wh: Warehouse) -> None:
    rows = check(
        wh,
        payments(),
        ["id", "member", "ts", "amount"],
        [
            ("T1", "m1", "2026-03-01 10:00:00", "1.00"),
            ("T2", None, "2026-03-01 10:00:00", "2.00"),  # a guest purchase
            ("T3", None, "2026-03-01 10:00:00", "abc"),  # and a bad amount: quarantined
        ],
    )
    assert [r["_reason"] for r in rows] == [
        None,
        "no customer reference: customer_ref all empty",
        "field amount: 'abc' is not a valid decimal(18,2); no customer reference: customer_ref all empty",
    ]
    assert stage_unattributed(wh, payments(), {"source": "pay", "all_rows": False}, rows=1) == 1
    assert wh.rows("select source, _file, _row, txn_id, amount from staging.unattributed_transactions") == [
        ("pay", "f.csv", 2, "T2", Decimal("2.00"))
    ]
    assert wh.dicts("select * from (" + wh.model_sql("staging/checked_counts") + ")") == [
        {"_file": "f.csv", "staged": 2, "quarantined": 1, "dropped": 0, "unattributed": 1}
    ]
    quarantined = wh.model_sql("staging/quarantined_rows", {"raw_rows": "raw.pay"})
    assert wh.rows(
        f"select row_number, reason from ({quarantined})",
        {"run_id": "run-1", "source": "pay", "all_rows": False},
    ) == [
        (3, "field amount: 'abc' is not a valid decimal(18,2); no customer reference: customer_ref all empty")
    ]


# --- birth dates in the layouts CRM exports use, day and month read by dedupe.date_order -------------------

BIRTHDAYS = [
    ("M1", "1990-01-02"),
    ("M2", "1990/1/2"),
    ("M3", "1990年1月2日"),
    ("M4", "19900102"),
    ("M5", "02.01.1990"),  # dotted: day first
    ("M6", "25/12/1990"),  # unambiguous: day first
    ("M7", "12/25/1990"),  # unambiguous: month first
    ("M8", "02/01/1990"),  # ambiguous
    ("M9", "2-1-1990"),  # ambiguous
    ("M10", "02/01/90"),  # a two-digit year is never read
    ("M11", "31/02/1990"),  # no such day either way
]


@pytest.mark.parametrize(
    ("date_order", "ambiguous"),
    [
        ("reject", (None, None)),
        ("dmy", (date(1990, 1, 2), date(1990, 1, 2))),
        ("mdy", (date(1990, 2, 1), date(1990, 2, 1))),
    ],
)
def test_birth_dates_are_read_in_every_listed_layout_and_ambiguous_ones_by_date_order(
    wh: Warehouse, date_order: str, ambiguous: tuple[date | None, date | None]
) -> None:
    rows = check(wh, BIRTHS, ["id", "b"], BIRTHDAYS, date_order=date_order)
    read = {r["source_id"]: r["birth_date"] for r in rows}
    assert read == {
        **dict.fromkeys(("M1", "M2", "M3", "M4", "M5"), date(1990, 1, 2)),
        "M6": date(1990, 12, 25),
        "M7": date(1990, 12, 25),
        "M8": ambiguous[0],
        "M9": ambiguous[1],
        "M10": None,
        "M11": None,
    }
    reasons = {r["source_id"]: r["_reason"] for r in rows if r["_reason"]}
    unread = {"M10": "'02/01/90'", "M11": "'31/02/1990'"}
    if date_order == "reject":
        unread |= {"M8": "'02/01/1990'", "M9": "'2-1-1990'"}
    assert reasons == {m: f"field birth_date: {text} is not a valid date" for m, text in unread.items()}


@pytest.mark.parametrize("date_order", ["reject", "dmy", "mdy"])
def test_staging_reads_a_text_date_as_dedupes_parser_does(date_order: str) -> None:
    # two readings of one layout list: staging's SQL (date_sql) and the dedupe normalizer's Python
    texts = [
        "1990-01-02",
        "1990/1/2",
        "1990.1.2",
        "19900102",
        "1990年1月2日",
        "1990-01-02T08:30:00",
        "02.01.1990",
    ]
    texts += ["25/12/1990", "12/25/1990", "02/01/1990", "2-1-1990", "1990-02-30", "31/02/1990", "02/01/90"]
    texts += ["33000", "未知", "1990-1-2", "199001022"]
    con = duckdb.connect()
    sql = date_sql("v", date_order)
    read = {
        text: con.execute(f"select {sql} from (select ?::varchar as v)", [text]).fetchone()[0]
        for text in texts
    }
    assert read == {text: normalize_birth_date(text, date_order, latest=date(2026, 1, 1)) for text in texts}
