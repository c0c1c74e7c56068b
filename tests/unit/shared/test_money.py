"""Tests for tasks.shared.money: amounts as written, read exactly by the SQL it builds (in DuckDB)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from tasks.shared import money


def read(text: str | None, scale: int = 2) -> tuple[Decimal | None, str | None, bool]:
    """(value, currency of its marks, too many decimals) of an amount's text."""
    sql = (
        f"select {money.text_value_sql('p', 't', scale)}, {money.mark_currency_sql('p')}, "
        f"{money.text_too_precise_sql('p', 't', scale)} from (select t, {money.parts_sql('t')} as p from (select ? as t))"
    )
    with duckdb.connect() as con:
        value, currency, too_precise = con.execute(sql, [text]).fetchone()
    return value, (currency if value is not None else None), too_precise


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("12.5", "12.50", None),
        ("-3", "-3.00", None),
        ("+5", "5.00", None),
        (".5", "0.50", None),
        ("12.", "12.00", None),
        ("1,234,567.89", "1234567.89", None),
        ("¥1,234.50", "1234.50", "CNY"),
        ("￥ 1,234.50", "1234.50", "CNY"),
        ("1,234.50元", "1234.50", "CNY"),
        ("-¥3", "-3.00", "CNY"),
        ("￥-3", "-3.00", "CNY"),
        ("RMB1234.5", "1234.50", "CNY"),
        ("1234.5 rmb", "1234.50", "CNY"),
        ("人民币100", "100.00", "CNY"),
        ("１２３４．５", "1234.50", None),
        ("￥１，２３４．５０", "1234.50", "CNY"),
        ("$12", "12.00", "USD"),
        ("US$12", "12.00", "USD"),
        ("HK$12", "12.00", "HKD"),
        ("12美元", "12.00", "USD"),
        ("EUR 12", "12.00", "EUR"),
        ("12 usd", "12.00", "USD"),
        ("¥12元", "12.00", "CNY"),  # two marks of one currency
        ("1e3", "1000.00", None),
        ("1.5E-1", "0.15", None),
        ("12.5000", "12.50", None),
        ("9999999999999999.99", "9999999999999999.99", None),
    ],
)
def test_written_amounts_read_exactly_with_their_currency(
    text: str, value: str, currency: str | None
) -> None:
    assert read(text) == (Decimal(value), currency, False)


@pytest.mark.parametrize(
    "text",
    [
        "1_000",  # DuckDB's cast reads 1000
        "12,5",  # a decimal comma, or a bad thousands group: not guessed
        "1,2345",
        "1.000,50",
        "(5.00)",
        "$12元",  # two currencies
        "-¥-3",
        "NaN",
        "Inf",
        "-Infinity",
        "¥",
        "-",
        "12345678901234567",  # more than 16 digits before the point
        "1e20",
        "12 34",
        "0x10",
        "",
    ],
)
def test_texts_that_are_no_amount_do_not_read(text: str) -> None:
    assert read(text) == (None, None, False)


def test_more_decimals_than_the_scale_are_flagged_never_rounded() -> None:
    assert read("12.345") == (None, None, True)
    assert read("0.004") == (None, None, True)
    assert read("1.2345E2") == (Decimal("123.45"), None, False)
    assert read("1.23456E2") == (None, None, True)
    assert read("12.345", scale=3) == (Decimal("12.345"), None, False)
    assert read("12", scale=0) == (Decimal("12"), None, False)
    assert read("12.5", scale=0) == (None, None, True)


@pytest.mark.parametrize(
    ("value", "expected", "too_precise"),
    [
        (6 * 2.55, Decimal("15.30"), False),
        (0.1 + 0.2, Decimal("0.30"), False),
        (-27.5, Decimal("-27.50"), False),
        (0.001, None, True),
        (12.345, None, True),
        (float("inf"), None, False),
        (float("nan"), None, False),
        (1e16, None, False),
    ],
)
def test_a_double_is_read_as_the_amount_it_is_up_to_binary_noise(
    value: float, expected: Decimal | None, too_precise: bool
) -> None:
    sql = f"select {money.double_value_sql('d', 2)}, {money.double_too_precise_sql('d', 2)} from (select ?::double as d)"
    with duckdb.connect() as con:
        assert con.execute(sql, [value]).fetchone() == (expected, too_precise)


@pytest.mark.parametrize(
    ("mark", "code"),
    [
        ("¥", "CNY"),
        ("￥", "CNY"),
        ("元", "CNY"),
        ("RMB", "CNY"),
        ("$", "USD"),
        ("USD", "USD"),
        ("EURO", None),
        ("", None),
    ],
)
def test_currency_codes_of_marks(mark: str, code: str | None) -> None:
    sql = f"select {money.currency_code_sql(money.normalize_sql('m'))} from (select ? as m)"
    with duckdb.connect() as con:
        assert con.execute(sql, [mark]).fetchone() == (code,)
