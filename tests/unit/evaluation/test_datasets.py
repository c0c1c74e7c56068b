"""Generated evaluation sets: deterministic from a seed, exact sizes, ground truth consistent with the records."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from rapidfuzz import distance

from evaluation.datasets import SETS, config_text, make_set
from evaluation.datasets.corrupt import digit_slip, typo
from evaluation.datasets.historical import build_people
from evaluation.datasets.transactions import build_transactions
from evaluation.datasets.vocabulary import OCCUPATIONS
from tasks.shared.config import load_config


@pytest.mark.parametrize("kind", sorted(SETS))
def test_same_seed_same_bytes_other_seed_other_bytes(kind: str, tmp_path: Path) -> None:
    first = make_set(kind, tmp_path / "a", 300, seed=5)
    again = make_set(kind, tmp_path / "b", 300, seed=5)
    other = make_set(kind, tmp_path / "c", 300, seed=6)
    assert [p.name for p in first] == [p.name for p in again] == [p.name for p in other]
    data = [p.name for p in first if p.suffix == ".csv"]
    assert data == {"historical": ["historical.csv"], "transactions": ["bank.csv", "ledger.csv"]}[kind]
    for name in data:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_historical_sizes_and_columns() -> None:
    people, records = build_people(300, seed=5)
    assert records.height == 300
    assert len(people) == records["cluster"].n_unique() == 125
    assert records.columns == [
        "unique_id",
        "cluster",
        "full_name",
        "first_name",
        "surname",
        "dob",
        "birth_place",
        "postcode",
        "occupation",
        "gender",
    ]
    assert records["unique_id"].n_unique() == 300
    assert set(records.group_by("cluster").len()["len"]) <= {1, 2, 3, 4, 5}


def _dob_explained(written: str | None, true: date) -> bool:
    """A written birth date is null, right, a slipped digit, day and month swapped, only the year, or a year off."""
    if written is None:
        return True
    iso = true.isoformat()
    slipped = len(written) == len(iso) and sum(a != b for a, b in zip(written, iso, strict=True)) == 1
    swapped = true.day <= 12 and written == date(true.year, true.day, true.month).isoformat()
    year_only = written == f"{true.year}-01-01"
    written_date = date.fromisoformat(written)
    year_off = abs(written_date.year - true.year) == 1 and written_date.month == true.month
    return written == iso or slipped or swapped or year_only or year_off


def test_historical_records_follow_their_true_person() -> None:
    people, records = build_people(3000, seed=11)
    truth = {p.cluster: p for p in people}
    for row in records.iter_rows(named=True):
        person = truth[row["cluster"]]
        assert row["gender"] in (None, person.gender)
        assert row["postcode"] is None or row["postcode"].startswith(f"{person.area}{person.district}")
        canonical, variants = OCCUPATIONS[person.occupation]
        assert row["occupation"] in (None, canonical, *variants)
        assert _dob_explained(row["dob"], person.dob), (row, person)
        # the family name is missing, or one slip away from the truth (in either name field: order swapped)
        written = [row[c].lower() for c in ("first_name", "surname") if row[c] is not None]
        assert len(written) < 2 or any(distance.OSA.distance(n, person.surname) <= 1 for n in written)
    # mostly pre-1900 people, some born in the 1900s
    years = pl.Series([p.dob.year for p in people])
    assert years.min() >= 1600 and years.max() <= 1935
    assert 0.01 < (years >= 1900).mean() < 0.10


def test_historical_has_look_alikes_of_distinct_people() -> None:
    people, _ = build_people(3000, seed=11)
    same = pl.DataFrame(
        {
            "name": [f"{p.first_name} {p.surname} {p.town}" for p in people],
            "dob": [p.dob for p in people],
        }
    )
    lookalikes = same.group_by("name").agg(persons=pl.len(), dobs=pl.col("dob").n_unique())
    assert lookalikes.filter(pl.col("persons") > 1).height >= 50
    assert lookalikes.filter(pl.col("persons") != pl.col("dobs")).height == 0  # other people, other days


def test_transactions_sizes_and_one_to_one_truth() -> None:
    bank, ledger = build_transactions(400, seed=5)
    assert bank.columns == ["txn_ref", "booked", "amount", "memo", "payment_id"]
    assert ledger.columns == ["entry_id", "value_date", "amount", "description", "payment_id"]
    assert (bank.height, ledger.height) == (370, 367)
    assert bank["payment_id"].n_unique() == bank.height and ledger["payment_id"].n_unique() == ledger.height
    assert bank["txn_ref"].n_unique() == bank.height and ledger["entry_id"].n_unique() == ledger.height
    both = bank.join(ledger, on="payment_id", suffix="_ledger")
    assert both.height == 337  # linked pairs: each payment in both systems once
    assert pl.concat([bank["payment_id"], ledger["payment_id"]]).n_unique() == 400
    days = both.select(
        (pl.col("value_date").str.to_date("%d/%m/%Y") - pl.col("booked").str.to_date()).dt.total_days()
    ).to_series()
    assert set(days) <= {0, 1, 2, 3}
    amounts = both.select(a=pl.col("amount").cast(pl.Float64), b=pl.col("amount_ledger").cast(pl.Float64))
    off = amounts.filter((pl.col("a") - pl.col("b")).abs() > 0.02 + 1e-9)
    assert ((off["a"] - off["b"]).abs() < 0.01 * off["a"].abs()).all()
    assert amounts.filter(pl.col("a") == pl.col("b")).height > 0.8 * both.height
    # amount and day alone are ambiguous: some pairs of bank rows share both
    assert bank.group_by("booked", "amount").len()["len"].max() > 1


def test_make_set_writes_a_config_that_reads_the_folder(tmp_path: Path) -> None:
    make_set("transactions", tmp_path, 50, seed=3)
    text = (tmp_path / "config.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Written by `python -m evaluation make-set transactions --records 50 --seed 3`")
    assert "evaluation-data" not in text.split("\nwarehouse:")[1]
    config = load_config(tmp_path / "config.yaml")
    assert [config.resolve(Path(s.path)) for s in config.sources] == [
        tmp_path / "bank.csv",
        tmp_path / "ledger.csv",
    ]
    assert config_text("historical", "x").count("path: historical.csv") == 1


def test_make_set_refuses_an_unknown_set(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown evaluation set 'people'; known: historical, transactions"):
        make_set("people", tmp_path)


def test_corruptions_are_one_slip() -> None:
    import random

    rng = random.Random(1)
    for _ in range(200):
        word = typo("margaret", rng)
        assert word != "" and abs(len(word) - len("margaret")) <= 1 and word[0] == "m"
        slipped = digit_slip("1845-03-12", rng)
        assert sum(a != b for a, b in zip(slipped, "1845-03-12", strict=True)) == 1
