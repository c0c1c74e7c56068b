"""`python -m evaluation score` (what `segments dedupe-score` printed, plus cluster scores) and `make-set`."""

from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from evaluation.cli import app
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
    assert lines[11].startswith("  extract: ") and "; dedupe: " in lines[11]
    assert (tmp_path / "scored.duckdb").is_file()


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
