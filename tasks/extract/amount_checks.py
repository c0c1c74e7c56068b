"""Amounts no customer paid: quarantined over a source's max_amount, else named when far beyond its usual ones.

A payment export holds mistakes that parse: an amount in cents read as yuan, a placeholder 9999999999.99, a
value in exponent notation (1e15). Staged, one such row makes its customer the most valuable of all. Where the
source sets max_amount, a larger amount is quarantined; without it, amounts over OUTLIER_FACTOR times the
source's median are staged and a warning names the first of them, so that the run's log says where to look.
"""

import logging

from tasks.shared.config import SourceConfig
from tasks.shared.warehouse import Warehouse

OUTLIER_FACTOR = 1000  # an amount this many times the source's median is named (not quarantined)
TYPICAL_ROWS = 100  # fewer staged amounts than this have no median worth comparing with
SHOWN = 3  # the rows a warning names


def max_amount_reasons(source: SourceConfig) -> list[str]:
    """SQL for why a row's amount is refused (null when it is not): larger, either sign, than max_amount."""
    if source.kind != "transactions" or source.max_amount is None or "amount" not in source.columns:
        return []
    bound = format(source.max_amount.normalize(), "f")
    return [
        f"""case when abs("amount") > {bound} then 'field amount: ' || "amount" || ' is beyond the source''s """
        f"""max_amount {bound}' end"""
    ]


def say_outlying_amounts(
    wh: Warehouse, source: SourceConfig, files: list[str], logger: logging.Logger | logging.LoggerAdapter
) -> None:
    """Warn of the amounts of files (those read this run) over OUTLIER_FACTOR times the source's median amount,
    when the source sets no max_amount."""
    if source.kind != "transactions" or source.max_amount is not None or not files:
        return
    median, amounts = wh.rows(
        "select median(abs(amount)), count(*) from staging.transactions where source = ? and amount <> 0",
        [source.name],
    )[0]
    if median is None or amounts < TYPICAL_ROWS:
        return
    found = wh.rows(
        "select _file, _row, amount, count(*) over () from staging.transactions "
        "where source = ? and _file in (select unnest(?::varchar[])) and abs(amount) > ? "
        f"order by abs(amount) desc, _file, _row limit {SHOWN}",
        [source.name, files, median * OUTLIER_FACTOR],
    )
    if not found:
        return
    over = found[0][3]  # how many, of which the first SHOWN are named
    shown = ", ".join(f"{file} row {row}: {amount:,}" for file, row, amount, _ in found)
    logger.warning(
        "source %s: %s over %s times its median amount (%s), staged: %s%s; if no customer paid these, set the "
        "source's max_amount to quarantine larger amounts",
        source.name,
        f"{over:,} amounts" if over > 1 else "1 amount",
        f"{OUTLIER_FACTOR:,}",
        f"{median:,}",
        shown,
        " …" if over > SHOWN else "",
    )
