"""The generated sets through the ordinary config path: every record scored, the true pairs as generated,
and quality floors a matcher must keep (about 0.05 below the figures measured on these small sets)."""

from pathlib import Path

import polars as pl

from evaluation.datasets import make_set
from evaluation.linkage import score_resolution
from tasks.shared.config import load_config
from tests.conftest import SAMPLE_END


def test_historical_set_runs_through_its_config(tmp_path: Path) -> None:
    make_set("historical", tmp_path / "data", 400, seed=5)
    records = pl.read_csv(tmp_path / "data" / "historical.csv", infer_schema=False)
    sizes = records.group_by("cluster").len()["len"]
    config = load_config(tmp_path / "data" / "config.yaml").model_copy(
        update={"warehouse": tmp_path / "warehouse.duckdb"}
    )
    result = score_resolution(config, SAMPLE_END, truth_expression="cluster")
    assert result.scores["items"] == 400
    assert result.scores["true_pairs"] == int((sizes * (sizes - 1) // 2).sum())
    assert result.clusters["true_clusters"] == records["cluster"].n_unique()
    # measured: 490 predicted pairs, P 0.8449, R 0.9539, B-cubed F1 0.9541
    assert result.scores["predicted_pairs"] > 0
    assert result.scores["precision"] >= 0.79
    assert result.scores["recall"] >= 0.90
    assert result.clusters["bcubed_f1"] >= 0.90


def test_transactions_set_runs_through_its_config(tmp_path: Path) -> None:
    make_set("transactions", tmp_path / "data", 300, seed=5)
    bank = pl.read_csv(tmp_path / "data" / "bank.csv", infer_schema=False)
    ledger = pl.read_csv(tmp_path / "data" / "ledger.csv", infer_schema=False)
    config = load_config(tmp_path / "data" / "config.yaml").model_copy(
        update={"warehouse": tmp_path / "warehouse.duckdb"}
    )
    result = score_resolution(config, SAMPLE_END, truth_expression="payment_id")
    assert result.scores["items"] == bank.height + ledger.height
    assert result.scores["true_pairs"] == bank.join(ledger, on="payment_id").height
    assert result.clusters["true_clusters"] == 300
    # measured: 228 predicted pairs, P 0.9868, R 0.8755, B-cubed F1 0.9679
    assert result.scores["predicted_pairs"] > 0
    assert result.scores["precision"] >= 0.93
    assert result.scores["recall"] >= 0.82
    assert result.clusters["bcubed_f1"] >= 0.91
