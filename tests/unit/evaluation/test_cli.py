"""`python -m evaluation score`: what `segments dedupe-score` printed, from the evaluation tool."""

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
    assert [line.split()[0] for line in lines[1:8]] == [
        "records",
        "true",
        "predicted",
        "precision",
        "recall",
        "F1",
        "customers",
    ]
    assert lines[8].startswith("  extract: ") and "; dedupe: " in lines[8]
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
