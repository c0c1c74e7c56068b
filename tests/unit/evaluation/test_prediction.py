"""evaluation.prediction: the planted truth, predictions against it, and the backtest figures as text."""

import importlib
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import evaluation.prediction
from evaluation.cli import app
from evaluation.prediction import against_truth, backtest_table, mean_figures, planted_truth

LIFETIMES_HEADER = "person_id,first_seen,churned_at,payer,orders,orders_per_active_day\n"
AS_OF_END = "2026-09-01 24:00:00"  # what evaluate_predictions passes for as_of 2026-09-01


def _write_lifetimes(root: Path, rows: list[str]) -> Path:
    (root / "truth").mkdir(parents=True)
    (root / "truth" / "lifetimes.csv").write_text(LIFETIMES_HEADER + "".join(row + "\n" for row in rows))
    return root


# ---------------------------------------------------------------------------------------------
# planted_truth
# ---------------------------------------------------------------------------------------------


def test_planted_truth_counts_churn_up_to_the_last_second_of_as_of(tmp_path: Path) -> None:
    root = _write_lifetimes(
        tmp_path,
        [
            "P0000001,2026-01-05 10:00:00,2026-09-01 23:59:59,true,3,0.012552",
            "P0000002,2026-02-01 08:00:00,2026-09-02 00:00:00,true,1,0.003268",
            "P0000003,2026-03-01 09:30:00,,false,0,0.0",
            "P0000004,2025-01-01 00:00:00,2025-06-30 12:00:00,false,0,0.0",
        ],
    )
    truth = planted_truth(root, AS_OF_END)
    assert truth.columns == ["person_id", "payer", "orders_per_active_day", "churned"]
    assert truth.rows() == [
        ("P0000001", True, 0.012552, True),  # churned during the as_of day
        ("P0000002", True, 0.003268, False),  # churned the next midnight: after as_of
        ("P0000003", False, 0.0, False),  # still active at the end of the sample
        ("P0000004", False, 0.0, True),
    ]


def test_planted_truth_with_nobody_churned(tmp_path: Path) -> None:
    # An all-empty churned_at column would be read as strings only because of the schema override.
    root = _write_lifetimes(
        tmp_path,
        ["P0000001,2026-01-05 10:00:00,,true,2,0.008403", "P0000002,2026-02-01 08:00:00,,false,0,0.0"],
    )
    truth = planted_truth(root, AS_OF_END)
    assert truth["churned"].to_list() == [False, False]
    assert truth["orders_per_active_day"].to_list() == [0.008403, 0.0]


# ---------------------------------------------------------------------------------------------
# against_truth
# ---------------------------------------------------------------------------------------------


def _truth(rows: list[tuple[str, bool, float, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["person_id", "payer", "orders_per_active_day", "churned"], orient="row")


def _predictions(rows: list[tuple[str, float | None, float | None, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "person_id": pl.String,
            "churn_risk": pl.Float64,
            "p_alive": pl.Float64,
            "expected_purchases": pl.Float64,
        },
        orient="row",
    )


TRUTH = _truth(
    [
        ("P1", True, 0.10, True),
        ("P2", True, 0.10, True),
        ("P3", True, 0.01, False),
        ("P4", True, 0.02, False),
        ("P5", True, 0.05, False),
        ("P6", True, 0.10, True),
        ("P7", True, 0.10, False),
        ("P8", False, 0.0, False),
    ]
)


def test_against_truth_on_hand_computed_figures() -> None:
    predictions = _predictions(
        [
            ("P1", 0.9, 0.1, 0.5),
            ("P2", 0.4, None, 0.2),  # no P(alive): counted as surely alive (1.0)
            ("P3", 0.5, 0.7, 1.0),
            ("P4", 0.1, 0.9, 3.0),
            ("P5", 0.2, 0.3, 2.0),
            ("P6", 0.8, 0.2, 0.1),
            ("P7", None, 0.5, 1.0),  # not scored: left out
            ("P9", 0.3, 0.5, 1.0),  # no planted person: left out
        ]
    )
    figures = against_truth(predictions, TRUTH)
    assert list(figures) == [
        "customers",
        "planted_churned_share",
        "auc_churn_risk_vs_planted_churn",
        "auc_p_alive_vs_planted_churn",
        "spearman_expected_purchases_vs_planted_rate_alive",
    ]
    assert figures["customers"] == 6
    assert figures["planted_churned_share"] == 0.5  # P1, P2, P6 of six
    # churned risks 0.9, 0.4, 0.8 against alive 0.5, 0.1, 0.2: 0.4 is below 0.5, the other 8 pairs ordered
    assert figures["auc_churn_risk_vs_planted_churn"] == pytest.approx(8 / 9, abs=1e-12)
    # churned P(alive) 0.1, 1.0, 0.2 against alive 0.7, 0.9, 0.3: P2's 1.0 ranks below all three
    assert figures["auc_p_alive_vs_planted_churn"] == pytest.approx(6 / 9, abs=1e-12)
    # alive P3, P4, P5: expected purchases rank 1, 3, 2, planted rates 1, 2, 3: rho = 1 - 6 * 2 / (3 * 8)
    assert figures["spearman_expected_purchases_vs_planted_rate_alive"] == pytest.approx(0.5, abs=1e-12)


def test_against_truth_leaves_out_what_cannot_be_computed() -> None:
    nobody_churned = _predictions(
        [("P3", 0.5, 0.7, 1.0), ("P4", 0.1, 0.9, 3.0), ("P5", 0.2, 0.3, 2.0), ("P7", 0.3, 0.5, 1.5)]
    )
    figures = against_truth(nobody_churned, TRUTH)
    # no churned customer: no AUC; the four alive by planted rate have expected purchases ranked 1, 4, 3, 2:
    # rho = 1 - 6 * (0 + 4 + 0 + 4) / (4 * 15)
    assert figures == {
        "customers": 4,
        "planted_churned_share": 0.0,
        "spearman_expected_purchases_vs_planted_rate_alive": pytest.approx(0.2, abs=1e-12),
    }
    two_alive = _predictions([("P1", 0.9, 0.1, 0.5), ("P3", 0.5, 0.7, 1.0), ("P4", 0.1, 0.9, 3.0)])
    figures = against_truth(two_alive, TRUTH)
    assert list(figures) == [
        "customers",
        "planted_churned_share",
        "auc_churn_risk_vs_planted_churn",
        "auc_p_alive_vs_planted_churn",
    ]  # a rank correlation needs more than two alive customers
    assert figures["auc_churn_risk_vs_planted_churn"] == 1.0
    assert against_truth(_predictions([]), TRUTH) == {"customers": 0, "planted_churned_share": None}


def test_against_truth_correlates_only_customers_with_a_forecast() -> None:
    predictions = _predictions(
        [("P3", 0.5, 0.7, 1.0), ("P4", 0.1, 0.9, 3.0), ("P5", 0.2, 0.3, 2.0), ("P8", 0.3, None, None)]
    )
    figures = against_truth(predictions, TRUTH)
    assert figures["customers"] == 4
    assert figures["spearman_expected_purchases_vs_planted_rate_alive"] == pytest.approx(0.5, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# backtest_table and mean_figures
# ---------------------------------------------------------------------------------------------

CHURN = ("customers", "churn_rate", "auc", "pr_auc", "brier", "calibration_error", "top_decile_lift")
VALUE = ("customers", "actual_total", "predicted_total", "mae", "aggregate_error", "top_decile_capture")


def _rows(
    cutoff: str, trained_on: str, role: str, model: str, values: tuple[float, ...]
) -> list[dict[str, Any]]:
    metrics = CHURN if role == "churn" else VALUE
    return [
        {"cutoff": cutoff, "trained_on": trained_on, "role": role, "model": model, "metric": m, "value": v}
        for m, v in zip(metrics, values, strict=True)
    ]


# The older cutoff and the baselines first: the table puts the newest cutoff first, models by name.
BACKTEST = (
    _rows("2026-06-03", "2026-03-05", "churn", "recency_baseline", (900, 0.35, 0.7, 0.55, 0.21, 0.04, 1.4))
    + _rows("2026-06-03", "2026-03-05", "churn", "gradient_boosting", (900, 0.35, 0.75, 0.6, 0.2, 0.03, 1.6))
    + _rows("2026-09-01", "2026-06-03", "churn", "recency_baseline", (1000, 0.4, 0.72, 0.58, 0.22, 0.05, 1.5))
    + _rows("2026-09-01", "2026-06-03", "churn", "gradient_boosting", (1000, 0.4, 0.8, 0.65, 0.19, 0.02, 1.8))
    + _rows("2026-09-01", "2026-06-03", "value", "last_period_spend", (600, 12345.6, 9000, 25.5, -0.271, 0.4))
    + _rows(
        "2026-09-01", "2026-06-03", "value", "bgnbd_gamma_gamma", (600, 12345.6, 11000, 20.25, -0.109, 0.45)
    )
)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("│").split("┆")]


def test_backtest_table_lines() -> None:
    lines = backtest_table({"backtest": BACKTEST}).splitlines()
    assert len(lines) == 21
    assert lines[0] == "churn (no purchase in the horizon):"
    assert _cells(lines[2]) == ["cutoff", "model", *CHURN]
    assert [_cells(line) for line in lines[6:10]] == [
        ["2026-09-01", "gradient_boosting", "1000", "0.400", "0.800", "0.650", "0.190", "0.020", "1.800"],
        ["2026-09-01", "recency_baseline", "1000", "0.400", "0.720", "0.580", "0.220", "0.050", "1.500"],
        ["2026-06-03", "gradient_boosting", "900", "0.350", "0.750", "0.600", "0.200", "0.030", "1.600"],
        ["2026-06-03", "recency_baseline", "900", "0.350", "0.700", "0.550", "0.210", "0.040", "1.400"],
    ]
    assert lines[10].startswith("└") and lines[11] == ""
    assert lines[12] == "value (spend in the horizon):"
    assert _cells(lines[14]) == ["cutoff", "model", *VALUE]
    assert [_cells(line) for line in lines[18:20]] == [
        ["2026-09-01", "bgnbd_gamma_gamma", "600", "12345.600", "11000.000", "20.250", "-0.109", "0.450"],
        ["2026-09-01", "last_period_spend", "600", "12345.600", "9000.000", "25.500", "-0.271", "0.400"],
    ]
    assert lines[20].startswith("└")


def test_backtest_table_without_a_scored_cutoff() -> None:
    assert backtest_table({"backtest": []}) == "no backtest cutoff could be scored"


def test_backtest_table_with_churn_figures_only() -> None:
    text = backtest_table({"backtest": [row for row in BACKTEST if row["role"] == "churn"]})
    assert text.startswith("churn (no purchase in the horizon):")


def test_mean_figures_one_line_per_model_without_missing_values() -> None:
    predict = {
        "backtest_means": {
            "gradient_boosting": {"auc": 0.775, "pr_auc": 0.625, "brier": None, "top_decile_lift": 1.7},
            "recency_baseline": {"auc": float("nan"), "calibration_error": 0.0451, "churn_rate": 0.375},
            "last_period_spend": {"mae": 25.5, "aggregate_error": float("inf"), "top_decile_capture": 0.4},
        }
    }
    assert mean_figures(predict) == [
        "  gradient_boosting: auc 0.775, pr_auc 0.625, top_decile_lift 1.700",
        "  recency_baseline: calibration_error 0.045, churn_rate 0.375",
        "  last_period_spend: mae 25.500, top_decile_capture 0.400",
    ]
    assert mean_figures({"backtest_means": {}}) == []


# ---------------------------------------------------------------------------------------------
# python -m evaluation predict, on canned figures (the real pipeline is too slow for a unit test)
# ---------------------------------------------------------------------------------------------


def test_predict_command_prints_backtest_means_and_planted_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Path, int, int]] = []
    monkeypatch.setattr(
        importlib.import_module("sampledata.generate"),  # the package's `generate` is the function
        "write_sample",
        lambda folder, customers, seed, end: calls.append((folder, customers, seed)),
    )
    figures = {
        "predict": {
            "horizon_days": 90,
            "churn_activity": "purchase",
            "backtest": BACKTEST,
            "backtest_means": {"gradient_boosting": {"auc": 0.775}},
            "churn_model": "gradient_boosting",
            "churn_model_reason": "its mean AUC beats the recency baseline's",
            "skipped": [{"cutoff": "2026-03-05", "reason": "42 customers at 2026-03-05"}],
        },
        "planted": {"customers": 1234, "planted_churned_share": 0.25},
    }
    monkeypatch.setattr(evaluation.prediction, "evaluate_predictions", lambda folder, as_of: figures)
    result = CliRunner().invoke(
        app, ["predict", "--customers", "1500", "--end", "2026-09-01", "--seed", "3", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path, 1500, 3)]
    lines = result.output.splitlines()
    assert lines[0] == (
        "1,500 generated persons (seed 3), as_of 2026-09-01, horizon 90 days, churn = no purchase in the horizon"
    )
    assert lines[1:] == [
        *backtest_table(figures["predict"]).splitlines(),
        "",
        "means over the cutoffs:",
        "  gradient_boosting: auc 0.775",
        "",
        "churn_risk comes from: gradient_boosting (its mean AUC beats the recency baseline's)",
        "cutoff 2026-03-05 not scored: 42 customers at 2026-03-05",
        "",
        "against the planted truth (truth/lifetimes.csv), customers scored as of as_of:",
        "  customers: 1,234",
        "  planted_churned_share: 0.250",
    ]
