"""`python -m evaluation score` (what `segments dedupe-score` printed, plus cluster scores) and `make-set`."""

from datetime import date, timedelta
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from evaluation.cli import app, blocking_text, unreadable_text
from sampledata import write_sample
from tests.conftest import SAMPLE_END


def test_score_prints_pairwise_figures(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_sample(data, customers=300, seed=7, end=SAMPLE_END)
    config = data / "config.yaml"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--config",
            str(config),
            "--truth-file",
            str(data / "truth" / "records.csv"),
            "--as-of",
            SAMPLE_END.isoformat(),
            "--warehouse",
            str(tmp_path / "scored.duckdb"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Identity resolution of {config} scored against ground truth"
    assert [line.split()[0] for line in lines[1:11]] == [
        "records",
        "true",
        "predicted",
        "precision",
        "recall",
        "F1",
        "clusters",
        "cluster",
        "B-cubed",
        "customers",
    ]
    # every candidate rule the sample offers is chosen (the data proposes few pairs); no match columns
    assert lines[11].startswith("  blocking: name_dob ")
    assert lines[11].endswith(" (24 of 24 rules)")
    assert lines[12].startswith("  extract: ") and "; dedupe: " in lines[12]
    assert not any(line.startswith("  unreadable:") for line in lines)
    assert (tmp_path / "scored.duckdb").is_file()


def test_score_prints_the_blocking_rules_and_unreadable_values(tmp_path: Path) -> None:
    CliRunner().invoke(
        app, ["make-set", "transactions", "--dir", str(tmp_path), "--records", "40", "--seed", "3"]
    )
    bank = pl.read_csv(tmp_path / "bank.csv", infer_schema=False)
    unknown = pl.int_range(pl.len()) < 3  # not a number: compared as missing, and counted
    bank.with_columns(amount=pl.when(unknown).then(pl.lit("unknown")).otherwise("amount")).write_csv(
        tmp_path / "bank.csv"
    )
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--config",
            str(tmp_path / "config.yaml"),
            "--truth",
            "payment_id",
            "--as-of",
            SAMPLE_END.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the rules in order, each with the pairs it proposes (counts left to the blocking tests), all chosen
    assert lines[11].startswith("  blocking: ") and lines[11].endswith(" (10 of 10 rules)")
    proposed = [
        part.rsplit(" ", 1)
        for part in lines[11][len("  blocking: ") : -len(" (10 of 10 rules)")].split(" · ")
    ]
    assert [rule for rule, _ in proposed] == [
        "amount",
        "txn_date",
        "amount_txn_date",
        "amount_near_txn_date_1",
        "near_amount_txn_date_1",
        "near_amount_near_txn_date_1",
        "amount_near_txn_date_2",
        "near_amount_txn_date_2",
        "near_amount_near_txn_date_2",
        "memo_tokens",
    ]
    assert all(pairs.replace(",", "").isdigit() and int(pairs.replace(",", "")) > 0 for _, pairs in proposed)
    assert lines[12] == "  unreadable: amount 3 records"
    assert lines[13].startswith("  extract: ")


def test_score_needs_exactly_one_truth(tmp_path: Path) -> None:
    write_sample(tmp_path, customers=20, seed=7, end=SAMPLE_END)
    result = CliRunner().invoke(app, ["score", "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 2
    assert "error: give exactly one of truth_expression or truth_file" in result.output


def test_score_never_writes_into_an_existing_warehouse(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_sample(data, customers=50, seed=7, end=SAMPLE_END)
    existing = tmp_path / "production.duckdb"
    existing.write_bytes(b"not touched")
    result = CliRunner().invoke(
        app,
        ["score", "--config", str(data / "config.yaml"), "--truth", "1", "--warehouse", str(existing)],
    )
    assert result.exit_code == 2
    assert (
        f"{existing} exists: the evaluation builds a new warehouse and never writes into an existing one"
        in (result.output.replace("\n", " "))
    )
    assert existing.read_bytes() == b"not touched"


def test_score_refuses_a_day_after_tomorrow(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("not read: the day is checked first", encoding="utf-8")
    later = date.today() + timedelta(days=2)
    result = CliRunner().invoke(
        app, ["score", "--config", str(config), "--truth", "1", "--as-of", str(later)]
    )
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: --as-of {later} is in the future (today is {date.today()}): records seen by then are unknown"
    ]


def test_make_set_writes_the_set_and_says_how_to_score_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["make-set", "transactions", "--dir", str(tmp_path), "--records", "40", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"wrote {tmp_path / 'bank.csv'}",
        f"wrote {tmp_path / 'ledger.csv'}",
        f"wrote {tmp_path / 'config.yaml'}",
        f"score it: python -m evaluation score --config {tmp_path / 'config.yaml'} --truth payment_id",
    ]
    unknown = CliRunner().invoke(app, ["make-set", "people", "--dir", str(tmp_path)])
    assert unknown.exit_code == 2
    assert "error: unknown evaluation set 'people'" in unknown.output


def test_blocking_and_unreadable_lines_name_what_was_left_out() -> None:
    blocking = [
        {"rule": "name_dob", "pairs": 2369, "chosen": True},
        {"rule": "name", "pairs": 11733, "chosen": True},
        {"rule": "family", "pairs": 1250000, "chosen": False},
    ]
    assert (
        blocking_text(blocking) == "name_dob 2,369 · name 11,733 (2 of 3 rules; not chosen: family 1,250,000)"
    )
    assert blocking_text([{"rule": "family", "pairs": 9, "chosen": False}]) == (
        "none (0 of 1 rules; not chosen: family 9)"
    )
    assert unreadable_text({"txn_date": 12, "amount": 1}) == "txn_date 12 records · amount 1 record"
