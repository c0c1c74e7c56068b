"""The report: the predict section of report.md, and the churn-risk charts of the HTML report (titles, traces)."""

from typing import Any

from tasks.predict.summary import render_markdown as predict_markdown
from tasks.publish.report import render_markdown, report_figures
from tests.unit.predict.test_summary import PREDICT

# a run summary as an older version wrote it: no predict stage
SUMMARY: dict[str, Any] = {
    "as_of": "2026-11-30",
    "run_id": "run-1",
    "config_hash": "abc",
    "warehouse": "/data/warehouse.duckdb",
    "extract": [
        {
            "source": "crm",
            "kind": "members",
            "files_loaded": 1,
            "files": 1,
            "rows_read": 10,
            "rows_staged": 9,
            "rows_quarantined": 1,
            "duplicates_dropped": 0,
            "status": "loaded",
        }
    ],
    "dedupe": {
        "records": 10,
        "customers": 8,
        "merged_records": 2,
        "largest_cluster": 2,
        "overshared_keys": [],
    },
    "segments": {"scored": 6, "rfm_segments": {"Champions": 6}, "clusters": {"0": 8}},
    "publish": {"export_dir": "/data/exports/2026-11-30"},
}

CHARTS = [
    "Segment sizes (RFM)",
    "Segment sizes over published days",
    "Customers by R score × F score",
    "Cluster profiles",
    "Segment membership changes since the previous published day",
    "Churn risk tiers (流失风险等级): customers per tier (without a risk score: 1)",
    "Predicted value over the next 90 days (未来90天预测价值) and customers, by RFM segment",
    "Predicted value over the next 90 days (未来90天预测价值) and customers, by risk tier",
    "Churn model calibration (校准): observed against predicted churn per decile of predicted risk, "
    "backtest cutoffs pooled",
    "Data quality: rows kept out of staging, all loads (customer records merged by dedupe: 2)",
]

# report_data of a day with predictions: the rows of the published/ models (see the model tests)
DATA: dict[str, Any] = {
    "as_of": "2026-11-30",
    "run_id": "run-1",
    "config_hash": "abc",
    "sizes": [("Champions", "冠军客户", 2)],
    "trend": [],
    "heatmap": [(5, 5, 2)],
    "clusters": [(0, 2, 3.0, 4.0, 520.0, 9.0)],
    "changes": [("rfm", "entered", 2)],
    "quality": [("crm", 1, 0)],
    "merged_records": 2,
    "horizon_days": 90,
    "churn_model": "gradient_boosting",
    "risk_value": [
        ("risk", "high", "高", 3, 3, 0.875, 2, 50.0),
        ("risk", "low", "低", 1, 1, 0.25, 1, 300.5),
        ("risk", "(no risk score)", None, 1, 0, None, 0, None),
        ("rfm", "Champions", "冠军客户", 2, 2, 0.375, 2, 400.75),
        ("rfm", "No Purchase", "未购买客户", 1, 0, None, 0, None),
    ],
    "calibration": [
        ("gradient_boosting", 1, 4, 0.3125, 0.375),
        ("gradient_boosting", 2, 2, 0.75, 1.0),
        ("recency_baseline", 1, 4, 0.5, 0.25),
    ],
}


def test_an_older_summary_renders_without_a_predict_section() -> None:
    text = render_markdown(SUMMARY)
    assert text.startswith("# Customer segments as of 2026-11-30\n")
    assert "流失风险" not in text
    assert text.endswith("## Outputs\n\nExports: `/data/exports/2026-11-30`\n")


def test_the_predict_section_comes_before_the_outputs() -> None:
    text = render_markdown({**SUMMARY, "predict": PREDICT})
    section = predict_markdown(PREDICT)
    assert f"\n\n{section}\n## Outputs\n\nExports: `/data/exports/2026-11-30`\n" in text
    assert text.count("## Churn risk and future value (流失风险与价值)") == 1


def test_report_figures_add_risk_value_and_calibration_charts() -> None:
    figures = dict(report_figures(DATA))
    assert list(figures) == CHARTS
    tiers = figures[CHARTS[5]].data[0]
    assert list(tiers.x) == ["高 high", "中 medium", "低 low"]
    assert list(tiers.y) == [3, 0, 1]
    value, customers = figures[CHARTS[6]].data
    assert (list(value.x), list(value.y), list(customers.y)) == (["Champions 冠军客户"], [400.75], [2])
    by_tier = figures[CHARTS[7]].data[0]
    assert (list(by_tier.x), list(by_tier.y)) == (["高 high", "低 low"], [50.0, 300.5])
    lines = figures[CHARTS[8]].data
    assert [line.name for line in lines] == [
        "gradient_boosting (used)",
        "recency_baseline",
        "perfectly calibrated",
    ]
    assert (list(lines[0].x), list(lines[0].y)) == ([0.3125, 0.75], [0.375, 1.0])
    assert (list(lines[2].x), list(lines[2].y)) == ([0, 1], [0, 1])  # the diagonal


def test_report_figures_without_predictions_keep_the_tier_charts_and_drop_calibration() -> None:
    empty = {**DATA, "risk_value": [], "calibration": [], "churn_model": None, "horizon_days": 30}
    figures = dict(report_figures(empty))
    assert list(figures)[5:8] == [
        "Churn risk tiers (流失风险等级): customers per tier (without a risk score: 0)",
        "Predicted value over the next 30 days (未来30天预测价值) and customers, by RFM segment",
        "Predicted value over the next 30 days (未来30天预测价值) and customers, by risk tier",
    ]
    assert len(figures) == len(CHARTS) - 1
    assert list(figures[list(figures)[5]].data[0].y) == [0, 0, 0]
    assert [a.text for a in figures[list(figures)[5]].layout.annotations] == ["no churn risk on this day"]
    assert [a.text for a in figures[list(figures)[6]].layout.annotations] == [
        "no predicted value on this day"
    ]
