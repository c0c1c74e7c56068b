"""Evidence for the predict stage: its backtests on generated data, and its predictions against what was planted.

The generator plants each person's churn time and order rate (sampledata: truth/lifetimes.csv). This
module runs extract, dedupe, features and predict on a sample folder, then reads the backtest figures
the stage computed and compares its predictions with the planted truth: customers who had already
churned by as_of should carry a high churn risk and a low P(alive), and the expected purchases of
those still active should follow their planted order rate.
"""

import logging
import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from tasks.dedupe import dedupe_all
from tasks.extract import extract_all
from tasks.features import features_day
from tasks.predict import predict_day
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse


def planted_truth(sample_dir: Path, as_of_end: str) -> pl.DataFrame:
    """Per generated person: churned by the end of as_of (planted), and their order rate while active."""
    lifetimes = pl.read_csv(
        sample_dir / "truth" / "lifetimes.csv", schema_overrides={"churned_at": pl.String}
    )
    return lifetimes.select(
        "person_id",
        "payer",
        "orders_per_active_day",
        churned=pl.col("churned_at").is_not_null() & (pl.col("churned_at") < as_of_end),
    )


def customer_persons(wh: Warehouse, sample_dir: Path) -> pl.DataFrame:
    """Each customer id with the person most of its records belong to (dedupe may merge or split persons)."""
    records = pl.read_csv(sample_dir / "truth" / "records.csv", schema_overrides={"record_id": pl.String})
    wh.write_frame("_truth_records", records, temp=True)
    return wh.frame(
        "select identity.customer_id, mode(truth.person_id order by truth.person_id) as person_id "
        "from core.identity_map as identity "
        "join _truth_records as truth on truth.source = identity.source and truth.record_id = identity.source_id "
        "group by identity.customer_id"
    )


def against_truth(predictions: pl.DataFrame, truth: pl.DataFrame) -> dict[str, Any]:
    """How the published predictions of the scored customers agree with the planted behaviour."""
    scored = predictions.join(truth, on="person_id").filter(pl.col("churn_risk").is_not_null())
    churned = scored["churned"].cast(pl.Int64).to_numpy()
    alive = scored.filter(~pl.col("churned") & pl.col("expected_purchases").is_not_null())
    result: dict[str, Any] = {
        "customers": scored.height,
        "planted_churned_share": float(churned.mean()) if scored.height else None,
    }
    if 0 < churned.sum() < churned.size:
        result["auc_churn_risk_vs_planted_churn"] = float(
            roc_auc_score(churned, scored["churn_risk"].to_numpy())
        )
        p_alive = scored["p_alive"].fill_null(1.0).to_numpy()
        result["auc_p_alive_vs_planted_churn"] = float(roc_auc_score(churned, -p_alive))
    if alive.height > 2:
        rho = spearmanr(alive["expected_purchases"].to_numpy(), alive["orders_per_active_day"].to_numpy())
        result["spearman_expected_purchases_vs_planted_rate_alive"] = float(rho.statistic)
    return result


def evaluate_predictions(sample_dir: Path, as_of: date) -> dict[str, Any]:
    """Run extract, dedupe, features and predict on a generated sample folder; return the figures."""
    config = load_config(sample_dir / "config.yaml")
    logger = logging.getLogger("evaluation")
    with Warehouse.open(config) as wh:
        run_id = str(uuid.uuid4())
        extract_all(wh, config, run_id, None, logger)
        dedupe_all(wh, config, as_of, run_id)
        features_day(wh, config, as_of)
        result = predict_day(wh, config, as_of, run_id)
        persons = customer_persons(wh, sample_dir)
        predictions = wh.frame("select * from predict.customer_predictions").join(persons, on="customer_id")
    end_of_day = f"{as_of.isoformat()} 24:00:00"  # local times sort as text; every time of as_of is before
    return {
        "predict": asdict(result),
        "planted": against_truth(predictions, planted_truth(sample_dir, end_of_day)),
    }


CHURN_COLUMNS = ("customers", "churn_rate", "auc", "pr_auc", "brier", "calibration_error", "top_decile_lift")
VALUE_COLUMNS = (
    "customers",
    "actual_total",
    "predicted_total",
    "mae",
    "aggregate_error",
    "top_decile_capture",
)


def metrics_by_cutoff(rows: pl.DataFrame, role: str, metrics: tuple[str, ...]) -> pl.DataFrame:
    """One row per cutoff and model of a role, one column per metric, newest cutoff first."""
    return (
        rows.filter(pl.col("role") == role)
        .pivot(on="metric", index=["cutoff", "model"], values="value")
        .select("cutoff", "model", *metrics)
        .sort("cutoff", "model", descending=[True, False])
        .with_columns(pl.col("customers").cast(pl.Int64))  # a count, shown without decimals
    )


def backtest_table(predict: dict[str, Any]) -> str:
    """The backtest's figures per cutoff and model, as plain text."""
    rows = pl.DataFrame(predict["backtest"])
    if rows.is_empty():
        return "no backtest cutoff could be scored"
    with pl.Config(
        tbl_rows=100, tbl_cols=20, float_precision=3, tbl_width_chars=200, tbl_hide_dataframe_shape=True
    ):
        churn = str(metrics_by_cutoff(rows, "churn", CHURN_COLUMNS))
        if rows.filter(pl.col("role") == "value").is_empty():
            value = None
        else:
            value = str(metrics_by_cutoff(rows, "value", VALUE_COLUMNS))
    activity = predict.get("churn_activity", "purchase")
    tables = [f"churn (no {activity} in the horizon):\n{churn}"]
    if value is None:
        tables.append("value (spend in the horizon): no cutoff had enough payers to score")
    else:
        tables.append(f"value (spend in the horizon):\n{value}")
    return "\n\n".join(tables)


def mean_figures(predict: dict[str, Any]) -> list[str]:
    """One line per model: its metrics averaged over the cutoffs."""
    lines = []
    for model, metrics in predict["backtest_means"].items():
        shown = ", ".join(
            f"{name} {value:.3f}"
            for name, value in metrics.items()
            if value is not None and np.isfinite(value)
        )
        lines.append(f"  {model}: {shown}")
    return lines
