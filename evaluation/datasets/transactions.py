"""Two systems' records of the same payments, to be linked one to one, with ground truth.

System A is a bank statement (txn_ref, booked, amount, memo); system B is the bookkeeping ledger
(entry_id, value_date as dd/mm/yyyy, amount, description). About 85% of the payments appear in both,
the rest in one only. The ledger's date is the bank's plus 0–3 days (mostly 0–1); its amount is the
same, or a cent or two off, or off by a fee (under 1%). The memo and the description name the same
counterparty in different words: the bank's terse upper-case descriptor with card, mandate and
reference numbers ('PAYPAL *STEAMGAMES 4029357733 REF 88123'), the bookkeeper's words with the
reference often cut short or left out ('Steam games purchase paypal ref8123'). Many payments share a
counterparty and an amount (monthly subscriptions, the same coffee), so amount and date alone are
ambiguous. The true payment is the `payment_id` column of both files.
"""

import calendar
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from evaluation.datasets.corrupt import Zipf
from evaluation.datasets.vocabulary import (
    COUNTERPARTIES,
    PAYEES,
    STATEMENT_TOWNS,
    TRANSFER_AMOUNTS,
    TRANSFER_PURPOSES,
)

DEFAULT_PAYMENTS = 5_000
START = date(2023, 1, 1)
PAYMENTS_PER_DAY = 7
BOTH_SHARE, BANK_ONLY_SHARE = 0.85, 0.075  # the rest is in the ledger only
DAYS_LATER = (0, 1, 2, 3)
DAYS_LATER_WEIGHTS = (0.55, 0.30, 0.10, 0.05)
TRANSFERS_PER_DAY = 0.5
BANK_COLUMNS = ("txn_ref", "booked", "amount", "memo", "payment_id")
LEDGER_COLUMNS = ("entry_id", "value_date", "amount", "description", "payment_id")
ABBREVIATIONS = {
    "groceries": "grocs",
    "subscription": "subs",
    "membership": "memb",
    "purchase": "purch",
    "insurance": "ins",
    "donation": "don",
    "shopping": "shop",
    "contribution": "contrib",
    "electricity": "elec",
    "takeaway": "t/away",
}


@dataclass(frozen=True)
class Payment:
    """One true payment: who, when the bank booked it, how much, and its reference number."""

    payment_id: str
    counterparty: int  # index into COUNTERPARTIES, or -1 - index into PAYEES for a transfer
    booked: date
    amount: float
    reference: str


def _amount(spec: float | tuple[float, ...] | range, rng: random.Random) -> float:
    if isinstance(spec, float):
        return spec
    if isinstance(spec, tuple):
        return -rng.choice(spec)
    low, high = spec.start, spec.stop
    return -round(low * (high / low) ** rng.random(), 2)  # log-uniform: small payments are common


def true_payments(payments: int, rng: random.Random) -> list[Payment]:
    """Exactly `payments` true payments over the period, in booking order."""
    days = max(60, -(-payments // PAYMENTS_PER_DAY))
    end = START + timedelta(days=days - 1)
    drawn: list[tuple[date, int, float]] = []
    variable = []
    for index, (_, _, _, _, schedule, spec) in enumerate(COUNTERPARTIES):
        if schedule != "monthly":
            variable.append((index, schedule))
            continue
        day_of_month = rng.randint(1, 28)
        month = START.replace(day=day_of_month)
        while month <= end:
            drawn.append((month, index, _amount(spec, rng)))
            month += timedelta(days=calendar.monthrange(month.year, month.month)[1])
    drawn.sort()
    drawn = drawn[:payments]
    indices = [i for i, _ in variable] + [-1]  # -1: a transfer to one of the payees
    weights = [w for _, w in variable] + [TRANSFERS_PER_DAY]
    payees = Zipf(range(len(PAYEES)), 1.0)
    while len(drawn) < payments:
        booked = START + timedelta(days=rng.randrange(days))
        index = rng.choices(indices, weights)[0]
        if index == -1:
            drawn.append((booked, -1 - payees.draw(rng), -rng.choice(TRANSFER_AMOUNTS)))
            continue
        spec = COUNTERPARTIES[index][5]
        amount = _amount(spec, rng)
        drawn.append((booked, index, -amount if COUNTERPARTIES[index][2] == "refund" else amount))
    drawn.sort(key=lambda p: p[0])  # stable: the order of the draws within a day stays
    return [
        Payment(f"P{number:06d}", counterparty, booked, amount, str(rng.randint(10_000, 99_999_999)))
        for number, (booked, counterparty, amount) in enumerate(drawn)
    ]


def bank_memo(payment: Payment, rng: random.Random) -> str:
    """The statement's descriptor: upper case, card details, mandates and full references."""
    if payment.counterparty < 0:
        initial, family, _ = PAYEES[-1 - payment.counterparty]
        return rng.choice(
            (f"FPS {initial} {family} REF {payment.reference}", f"{initial} {family} {payment.reference} FPS")
        )
    bank, _, category, channel, _, _ = COUNTERPARTIES[payment.counterparty]
    if channel == "paypal":
        phone = 4029357733 + 7 * payment.counterparty
        return f"PAYPAL *{bank.replace(' ', '')} {phone} REF {payment.reference[-5:]}"
    if channel == "dd":
        return f"DD {bank} {1_000_000 + 7919 * payment.counterparty}"
    if channel == "fps":
        return f"SO {bank} {category.upper()} {payment.reference}"
    if channel == "bgc":
        return f"BGC {bank} {category.upper()} {payment.reference}"
    town = rng.choice(STATEMENT_TOWNS)
    roll = rng.random()
    if roll < 0.5:
        return f"{bank} {town}"
    if roll < 0.8:
        spent = payment.booked - timedelta(days=rng.choice((0, 1, 1, 2)))
        return f"CARD PAYMENT TO {bank} ON {spent.day:02d}{calendar.month_abbr[spent.month].upper()}"
    return f"{bank} {1000 + (payment.counterparty * 37 + rng.randrange(3) * 11) % 9000} {town} GB"


def _abbreviated(words: str, rng: random.Random) -> str:
    return " ".join(ABBREVIATIONS.get(w, w) if rng.random() < 0.5 else w for w in words.split())


def _reference_tail(reference: str, rng: random.Random) -> str | None:
    """The reference as the bookkeeper copied it: whole, its last four digits, or not at all."""
    roll = rng.random()
    return reference if roll < 0.4 else reference[-4:] if roll < 0.7 else None


def ledger_description(payment: Payment, rng: random.Random) -> str:
    """The ledger's description: the bookkeeper's words, reordered, abbreviated, references cut short."""
    tail = _reference_tail(payment.reference[-5:], rng)
    if payment.counterparty < 0:
        _, family, given = PAYEES[-1 - payment.counterparty]
        purpose = rng.choice(TRANSFER_PURPOSES)
        return rng.choice(
            (
                f"Transfer to {given} {family.title()} {purpose}" + (f" ref {tail}" if tail else ""),
                f"{given} - {purpose}",
                f"{family.title()} {purpose}",
            )
        )
    _, ledger, category, channel, _, _ = COUNTERPARTIES[payment.counterparty]
    month = f"{calendar.month_name[payment.booked.month]} {payment.booked.year}"
    if channel == "paypal":
        return rng.choice(
            (
                f"{ledger} {category} paypal" + (f" ref{tail}" if tail else ""),
                f"Paypal - {ledger}" + (f" ({tail})" if tail else ""),
                f"{ledger} via paypal",
            )
        )
    if channel == "dd":
        return rng.choice(
            (f"{ledger} {category} DD", f"Direct debit {ledger}", f"{category.capitalize()} ({ledger})")
        )
    if channel == "fps":
        return f"{category.capitalize()} {month} {ledger}"
    if channel == "bgc":
        return rng.choice((f"Salary {ledger} {month}", f"{ledger} pay {month}"))
    roll = rng.random()
    if roll < 0.4:
        return f"{ledger} {category}"
    if roll < 0.7:
        return f"{category.capitalize()} - {ledger}"
    if roll < 0.85:
        return f"{ledger} {_abbreviated(category, rng)}"
    return f"{category}: {ledger.lower()}"


def ledger_amount(amount: float, rng: random.Random) -> float:
    """The amount as booked: mostly the same, else a cent or two off, or a fee under 1% added."""
    roll = rng.random()
    if roll < 0.06 and abs(amount) >= 5:
        return round(amount + rng.choice((-0.02, -0.01, 0.01, 0.02)), 2)
    if roll < 0.12 and abs(amount) >= 2:
        fee = max(0.01, round(abs(amount) * rng.uniform(0.002, 0.009), 2))
        return round(amount - fee, 2)  # the fee is charged on money out and kept from money in
    return amount


def build_transactions(payments: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The bank statement and the ledger of `payments` true payments (ground truth: payment_id)."""
    if payments < 1:
        raise ValueError("payments must be at least 1")
    rng = random.Random(seed)
    bank_rows, ledger_rows = [], []
    for payment in true_payments(payments, rng):
        roll = rng.random()
        in_bank, in_ledger = (
            roll < BOTH_SHARE + BANK_ONLY_SHARE,
            roll < BOTH_SHARE or roll >= BOTH_SHARE + BANK_ONLY_SHARE,
        )
        memo, description = bank_memo(payment, rng), ledger_description(payment, rng)
        later = rng.choices(DAYS_LATER, DAYS_LATER_WEIGHTS)[0]
        amount = ledger_amount(payment.amount, rng)
        if in_bank:
            bank_rows.append((payment.booked, f"{payment.amount:.2f}", memo, payment.payment_id))
        if in_ledger:
            ledger_rows.append(
                (payment.booked + timedelta(days=later), f"{amount:.2f}", description, payment.payment_id)
            )
    bank_rows.sort(key=lambda r: r[0])
    ledger_rows.sort(key=lambda r: r[0])
    number = 40_000_000 + rng.randrange(1_000_000)
    bank = []
    for booked, amount, memo, payment_id in bank_rows:
        number += rng.randint(1, 9)
        bank.append((f"TX{number}", booked.isoformat(), amount, memo, payment_id))
    ledger = [
        (f"JE-{n + 1:06d}", value_date.strftime("%d/%m/%Y"), amount, description, payment_id)
        for n, (value_date, amount, description, payment_id) in enumerate(ledger_rows)
    ]
    return (
        pl.DataFrame(bank, schema=dict.fromkeys(BANK_COLUMNS, pl.String), orient="row"),
        pl.DataFrame(ledger, schema=dict.fromkeys(LEDGER_COLUMNS, pl.String), orient="row"),
    )


def write_transactions(directory: Path, payments: int = DEFAULT_PAYMENTS, seed: int = 1) -> list[str]:
    """Write bank.csv and ledger.csv (ground truth column `payment_id` in both) into directory."""
    bank, ledger = build_transactions(payments, seed)
    bank.write_csv(directory / "bank.csv")
    ledger.write_csv(directory / "ledger.csv")
    return ["bank.csv", "ledger.csv"]
