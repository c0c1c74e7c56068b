"""truth/lifetimes.csv: what it says of each person holds in the source files the same run wrote."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sampledata import generate
from sampledata.distributions import SHARE_STILL_ACTIVE
from sampledata.formats import LIFETIME_COLUMNS

PERSONS = 2000
CHUNK = 1000  # two chunks: person ids and order numbers continue across them
SEED = 7
END = date(2026, 11, 22)
WINDOW_END = "2026-11-22 23:59:59"  # the last second of the generated period (local time)
MAX_SESSION_S = 4 * 3600  # session durations are clipped to 4 hours (sampledata.sources._game)
ORDER_STATUSES = ("SUCCESS", "FAILED", "PENDING")  # one row per order; REFUND rows repeat its order_id


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lifetimes")
    generate(out, customers=PERSONS, seed=SEED, end=END, chunk_size=CHUNK)
    return out


def _lifetimes(root: Path) -> pl.DataFrame:
    return pl.read_csv(root / "truth" / "lifetimes.csv", infer_schema=False).with_columns(
        pl.col("payer").replace_strict({"true": True, "false": False}, return_dtype=pl.Boolean),
        pl.col("orders").cast(pl.Int64),
        pl.col("orders_per_active_day").cast(pl.Float64),
    )


def _truth(root: Path, source: str, id_column: str) -> pl.DataFrame:
    truth = pl.read_csv(root / "truth" / "records.csv", infer_schema=False)
    return truth.filter(pl.col("source") == source).select(pl.col("record_id").alias(id_column), "person_id")


def _payments(root: Path) -> pl.DataFrame:
    """Every payment row with its person (null without a txn_id) and its time written as lifetimes.csv writes times."""
    payments = pl.read_csv(root / "payments" / "payments.csv", infer_schema=False)
    return payments.join(_truth(root, "payments", "txn_id"), on="txn_id", how="left").with_columns(
        local=pl.col("created_at").str.strip_suffix("+08:00").str.replace("T", " ", literal=True)
    )


def _sessions(root: Path) -> pl.DataFrame:
    sessions = pl.read_parquet(sorted((root / "game").glob("sessions-*.parquet")))
    return sessions.join(_truth(root, "game", "session_id"), on="session_id", how="left")


def _seconds(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime("%Y-%m-%d %H:%M:%S").dt.epoch("s")


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------


def test_one_row_per_person_in_id_order(sample: Path) -> None:
    text = (sample / "truth" / "lifetimes.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "person_id,first_seen,churned_at,payer,orders,orders_per_active_day"
    assert len(lines) == PERSONS + 1  # the header once, although two chunks were appended
    lifetimes = _lifetimes(sample)
    assert lifetimes.columns == list(LIFETIME_COLUMNS)
    assert lifetimes["person_id"].to_list() == [f"P{i:07d}" for i in range(1, PERSONS + 1)]
    persons_in_truth = set(pl.read_csv(sample / "truth" / "records.csv", infer_schema=False)["person_id"])
    assert persons_in_truth <= set(lifetimes["person_id"])


def test_lifetimes_lie_in_the_window(sample: Path) -> None:
    lifetimes = _lifetimes(sample)
    assert lifetimes["first_seen"].min() >= "2024-11-23 00:00:00"
    assert lifetimes["first_seen"].max() <= WINDOW_END
    churned = lifetimes.filter(pl.col("churned_at").is_not_null())
    assert (churned["churned_at"] >= churned["first_seen"]).all()
    assert churned["churned_at"].max() < WINDOW_END  # the end itself means "still active": written empty


def test_share_still_active_near_the_planted_rate(sample: Path) -> None:
    still_active = _lifetimes(sample)["churned_at"].is_null().sum()
    # Each person stays active with probability SHARE_STILL_ACTIVE, independently of everything else,
    # so the count is Binomial(PERSONS, 0.45): 4 standard deviations (0.044) leaves about 1 in 16,000
    # seeds outside while a rate off by 0.05 (say 0.40 or 0.50 planted) is caught.
    sd = math.sqrt(SHARE_STILL_ACTIVE * (1 - SHARE_STILL_ACTIVE) / PERSONS)
    assert abs(still_active / PERSONS - SHARE_STILL_ACTIVE) < 4 * sd


# ---------------------------------------------------------------------------------------------
# Orders against payments/payments.csv
# ---------------------------------------------------------------------------------------------


def test_payers_and_only_payers_order(sample: Path) -> None:
    lifetimes = _lifetimes(sample)
    assert lifetimes["payer"].any() and not lifetimes["payer"].all()
    assert (lifetimes["payer"] == (lifetimes["orders"] > 0)).all()
    assert (lifetimes.filter(~pl.col("payer"))["orders_per_active_day"] == 0.0).all()
    payers = set(lifetimes.filter(pl.col("payer"))["person_id"])
    payments = _payments(sample)
    paying = set(payments["person_id"].drop_nulls())
    assert paying <= payers  # no payment row of a non-payer
    # a payer missing from the payments' truth has each of their rows without a txn_id
    assert len(payers - paying) <= payments["txn_id"].null_count()
    # a payer plays: orders are placed during sessions, and every session has an id in the truth
    assert payers <= set(_sessions(sample)["person_id"])


def test_orders_are_the_distinct_order_ids_of_each_person(sample: Path) -> None:
    lifetimes = _lifetimes(sample)
    payments = _payments(sample)
    order_rows = payments.filter(pl.col("status").is_in(ORDER_STATUSES))
    # one row per order (exact duplicate rows aside), numbered densely over the whole sample
    assert order_rows.unique().height == order_rows["order_id"].n_unique()
    total = lifetimes["orders"].sum()
    assert sorted(order_rows["order_id"].unique()) == [f"O{i:09d}" for i in range(1, total + 1)]
    refunded = set(payments.filter(pl.col("status") == "REFUND")["order_id"])
    assert refunded <= set(order_rows["order_id"])

    # An order's person is known through any of its rows with a txn_id (its REFUND row has one too).
    owners = payments.filter(pl.col("person_id").is_not_null()).select("order_id", "person_id").unique()
    assert owners["order_id"].is_unique().all()  # every order belongs to one person
    hidden = set(order_rows["order_id"]) - set(owners["order_id"])
    # Only the empty-txn fault hides an order: its order row has no txn_id, nor has a refund of it.
    no_txn = payments.filter(pl.col("txn_id").is_null())
    assert hidden <= set(no_txn["order_id"])
    assert len(hidden) > 0  # the fault occurs in this sample, so the comparison below is not vacuous

    counted = owners.group_by("person_id").agg(pl.len().alias("seen"))
    joined = lifetimes.join(counted, on="person_id", how="left").with_columns(pl.col("seen").fill_null(0))
    # Exact per person where nothing is hidden; the hidden orders are exactly what is missing overall.
    assert (joined["seen"] <= joined["orders"]).all()
    assert (joined["orders"] - joined["seen"]).sum() == len(hidden)
    assert (joined["orders"] != joined["seen"]).sum() <= len(hidden)


def test_orders_per_active_day_is_orders_over_active_days(sample: Path) -> None:
    lifetimes = _lifetimes(sample)
    end = int((datetime.fromisoformat(WINDOW_END) - datetime(1970, 1, 1)).total_seconds())
    lifetimes = lifetimes.with_columns(
        first=_seconds("first_seen"),
        last=pl.when(pl.col("churned_at").is_null()).then(pl.lit(end)).otherwise(_seconds("churned_at")),
    )
    active_days = np.maximum((lifetimes["last"] - lifetimes["first"]).to_numpy() / 86_400, 1.0)
    expected = np.round(lifetimes["orders"].to_numpy() / active_days, 6)
    assert lifetimes["orders_per_active_day"].to_list() == expected.tolist()

    # Three rows by hand: a churned payer, a payer still active at the end, and one active under a day
    # (the rate is per active day but over at least one day, so it is the order count itself).
    payers = lifetimes.filter(pl.col("payer"))
    churned = payers.filter(pl.col("churned_at").is_not_null()).row(0, named=True)
    seconds = (
        datetime.fromisoformat(churned["churned_at"]) - datetime.fromisoformat(churned["first_seen"])
    ).total_seconds()
    assert seconds > 86_400
    assert churned["orders_per_active_day"] == round(churned["orders"] / (seconds / 86_400), 6)
    active = payers.filter(pl.col("churned_at").is_null()).row(0, named=True)
    seconds = (
        datetime.fromisoformat(WINDOW_END) - datetime.fromisoformat(active["first_seen"])
    ).total_seconds()
    assert active["orders_per_active_day"] == round(active["orders"] / (seconds / 86_400), 6)
    brief = payers.filter(pl.col("last") - pl.col("first") < 86_400)
    assert brief.height > 0
    assert brief["orders_per_active_day"].to_list() == brief["orders"].cast(pl.Float64).to_list()


# ---------------------------------------------------------------------------------------------
# Nothing after the churn time
# ---------------------------------------------------------------------------------------------


def test_sessions_start_between_first_seen_and_churn(sample: Path) -> None:
    sessions = _sessions(sample)
    assert sessions["person_id"].null_count() == 0  # every session has an id in the truth
    sessions = sessions.join(_lifetimes(sample), on="person_id")
    assert sessions.filter(pl.col("start_time") < pl.col("first_seen")).is_empty()
    late = sessions.filter(pl.col("churned_at").is_not_null() & (pl.col("start_time") > pl.col("churned_at")))
    # The only sessions after the churn time are the 'starting after end' fault (sampledata.faults).
    assert late.height > 0
    assert (late["start_time"] > WINDOW_END).all()


def _after_churn(sample: Path) -> pl.DataFrame:
    """Payment rows of a known person after that person's churn time, with the seconds since it."""
    payments = _payments(sample).join(_lifetimes(sample), on="person_id")
    return payments.filter(
        pl.col("churned_at").is_not_null() & (pl.col("local") > pl.col("churned_at"))
    ).with_columns(after=_seconds("local") - _seconds("churned_at"))


def test_payments_after_churn_are_within_the_last_session_or_refunds(sample: Path) -> None:
    late = _after_churn(sample)
    # Orders are placed during sessions, and the last session starts at the churn time at the latest, so an
    # order can fall up to that session's length (at most 4 hours) after it; refunds follow up to 7 days
    # after their order.
    orders = late.filter(pl.col("status").is_in(ORDER_STATUSES))
    assert (orders["after"] < MAX_SESSION_S).all()
    refunds = late.filter(pl.col("status") == "REFUND")
    assert (refunds["after"] < MAX_SESSION_S + 7 * 86_400).all()


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_lifetimes(sample: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", customers=PERSONS, seed=SEED, end=END, chunk_size=CHUNK)
    generate(tmp_path / "other", customers=PERSONS, seed=SEED + 1, end=END, chunk_size=CHUNK)
    written = (sample / "truth" / "lifetimes.csv").read_bytes()
    assert (tmp_path / "again" / "truth" / "lifetimes.csv").read_bytes() == written
    assert (tmp_path / "other" / "truth" / "lifetimes.csv").read_bytes() != written
