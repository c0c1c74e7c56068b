"""Tests for the money settings of tasks.shared.config: amount_scale (pipeline and source) and currency."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tasks.shared.config import load_config
from tasks.shared.config.pipeline import CurrencyConfig
from tests.unit.shared.test_config import config_with, crm, error_lines, write


def test_defaults_are_two_decimals_and_cny_without_rates(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, config_with()))
    assert config.amount_scale == 2
    assert config.sources[0].amount_scale == 2  # each transactions source carries its scale
    assert config.currency == CurrencyConfig(base="CNY", rates={})


def test_a_sources_amount_scale_wins_over_the_pipelines(tmp_path: Path) -> None:
    data = config_with(amount_scale=4, source={"amount_scale": 0})
    data["sources"].append({**data["sources"][0], "name": "other", "amount_scale": None})
    config = load_config(write(tmp_path, data))
    assert [s.amount_scale for s in config.sources] == [0, 4]


def test_amount_scale_is_bounded_and_for_transactions_only(tmp_path: Path) -> None:
    assert error_lines(tmp_path, config_with(amount_scale=7)) == [
        "  - line 13, amount_scale: Input should be less than or equal to 6"
    ]
    data = config_with()
    data["sources"].append({**crm(), "amount_scale": 2})
    assert error_lines(tmp_path, data) == [
        "  - line 21, sources.crm: amount_scale is for transactions sources (their amount)"
    ]


def test_currency_codes_and_rates(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, config_with(currency={"base": "usd", "rates": {"cny": 0.14, "EUR": 1.08}}))
    )
    assert config.currency == CurrencyConfig(
        base="USD", rates={"CNY": Decimal("0.14"), "EUR": Decimal("1.08")}
    )
    assert error_lines(tmp_path, config_with(currency={"base": "yuan", "rates": {"USD": 0}})) == [
        "  - line 14, currency.base: 'yuan' is not a currency code (three letters, e.g. CNY, USD)",
        "  - line 15, currency.rates: rates must be positive numbers; not: ['USD']",
    ]
    assert error_lines(tmp_path, config_with(currency={"rates": {"CNY": 1}})) == [
        "  - line 13, currency: rates: CNY is the base currency (its rate is 1); remove it"
    ]
