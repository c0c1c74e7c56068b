"""The HTML report's churn-risk and value charts: risk tiers, predicted value by segment, calibration.

report_data and report_figures (tasks/publish/report.py) call these; the rows come from
sql/published/risk_value_by_segment.sql and sql/published/churn_calibration.sql.
"""

from datetime import date
from typing import TYPE_CHECKING, Any

from tasks.publish.labels import Language, both, label
from tasks.publish.report_charts import Figure, empty, layout, legend_above, title
from tasks.shared.config import PredictConfig

if TYPE_CHECKING:
    from tasks.shared.warehouse import Warehouse

TIERS = (("high", "高", "#E45756"), ("medium", "中", "#F58518"), ("low", "低", "#54A24B"))
TIER_EN = {"high": "high risk", "medium": "medium risk", "low": "low risk"}
NO_TIER = "(no risk score)"
# the columns of sql/published/risk_value_by_segment.sql, in order
RISK_VALUE_COLUMNS = (
    "scheme",
    "segment",
    "segment_zh",
    "customers",
    "scored",
    "mean_churn_risk",
    "valued",
    "predicted_value",
)


def value_column(horizon_days: int) -> str:
    """The published predicted value column of a horizon: predicted_value_90d."""
    return f"predicted_value_{int(horizon_days)}d"


def risk_data(wh: "Warehouse", as_of: date, summary: dict[str, Any]) -> dict[str, Any]:
    """The rows of the risk charts: customers and value by risk tier and RFM segment, calibration deciles."""
    predict = summary.get("predict") or {}
    horizon = int(predict.get("horizon_days") or PredictConfig().horizon_days)
    column = value_column(horizon)
    params = {"as_of": as_of}
    published = set(wh.columns("published.customer_segments"))
    # the column is named in code from an integer, and used only if the published table has it
    risk_value = (
        wh.rows(wh.model_sql("published/risk_value_by_segment", identifiers={"value_column": column}), params)
        if {"churn_risk", "risk_tier", "risk_tier_zh", column} <= published
        else []
    )
    calibration = (
        wh.rows(wh.model_sql("published/churn_calibration"), params)
        if wh.table_exists("predict.calibration")
        else []
    )
    return {
        "horizon_days": horizon,
        "churn_model": predict.get("churn_model"),
        "risk_value": risk_value,
        "calibration": calibration,
    }


def _value_figure(labels: list[str], values: list[float], customers: list[int], language: Language) -> Figure:
    """Predicted value as bars (left axis, each with its value) and customers as bars beside them (right axis):
    side by side, never over a value's label (a marker over the bar landed on its number)."""
    value_name = both("预测价值", "predicted value", language)
    customers_name = both("有预测的客户", "customers with a forecast", language)
    data = [
        {
            "type": "bar",
            "x": labels,
            "y": values,
            "name": value_name,
            "marker": {"color": "#4C78A8"},
            "offsetgroup": "value",
            "text": [f"{v:,.0f}" for v in values],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{x}: %{y:,.2f}<extra></extra>",
        },
        {
            "type": "bar",
            "x": labels,
            "y": customers,
            "name": customers_name,
            "marker": {"color": "#F58518"},
            "offsetgroup": "customers",
            "yaxis": "y2",
            "hovertemplate": "%{x}: %{y:,}<extra></extra>",
        },
    ]
    figure = {
        "data": data,
        "layout": layout(
            420,
            yaxis={"title": title(both("预测价值", "predicted value", language)), "rangemode": "tozero"},
            yaxis2={
                "title": title(both("客户数", "customers", language)),
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "tickmode": "auto",  # round counts, not ticks synced to the value axis
                "showgrid": False,
            },
            legend={"orientation": "h", "y": 1.12},
            xaxis={"automargin": True},
            barmode="group",
        ),
    }
    if not labels:
        message = both("今日无预测价值", "no predicted value on this day", language)
        return empty(figure, message, axes=("xaxis", "yaxis", "yaxis2"))
    return figure


def risk_figures(data: dict[str, Any], language: Language = "zh") -> list[tuple[str, Figure]]:
    """The predicted value and calibration charts, titled (calibration only when the backtests have it).

    The customers per risk tier are drawn with the other schemes (tasks/publish/report.py).
    """
    horizon = data.get("horizon_days", PredictConfig().horizon_days)
    rows = [dict(zip(RISK_VALUE_COLUMNS, row, strict=True)) for row in data.get("risk_value", [])]
    tiers = {row["segment"]: row for row in rows if row["scheme"] == "risk"}
    value_title = both(
        f"未来{horizon}天预测价值（本位币）与客户数",
        f"predicted value over the next {horizon} days (base currency) and customers",
        language,
    )
    segments = [row for row in rows if row["scheme"] == "rfm" and row["valued"]]
    valued_tiers = [
        (name, zh, tiers[name]) for name, zh, _ in TIERS if name in tiers and tiers[name]["valued"]
    ]
    figures = [
        (
            f"{value_title} · {both('按 RFM 分群', 'by RFM segment', language)}",
            _value_figure(
                [label(row["segment_zh"], row["segment"], language) for row in segments],
                [float(row["predicted_value"] or 0) for row in segments],
                [row["valued"] for row in segments],
                language,
            ),
        ),
        (
            f"{value_title} · {both('按流失风险等级', 'by risk tier', language)}",
            _value_figure(
                [label(row["segment_zh"] or zh, TIER_EN[name], language) for name, zh, row in valued_tiers],
                [float(row["predicted_value"] or 0) for *_, row in valued_tiers],
                [row["valued"] for *_, row in valued_tiers],
                language,
            ),
        ),
    ]

    calibration = data.get("calibration", [])
    if calibration:
        lines = []
        for model in sorted({m for m, *_ in calibration}):
            # rows of sql/published/churn_calibration.sql: model, decile, customers, mean predicted, observed
            deciles = [row[1:] for row in calibration if row[0] == model]
            lines.append(
                {
                    "type": "scatter",
                    "x": [float(predicted) for _, _, predicted, _ in deciles],
                    "y": [float(observed) for *_, observed in deciles],
                    "mode": "lines+markers",
                    "name": f"{model} ({both('采用', 'used', language)})"
                    if model == data.get("churn_model")
                    else model,
                    "customdata": [[decile, customers] for decile, customers, _, _ in deciles],
                    "hovertemplate": "decile %{customdata[0]} (%{customdata[1]:,}): "
                    "predicted %{x:.1%}, observed %{y:.1%}",
                }
            )
        lines.append(
            {
                "type": "scatter",
                "x": [0, 1],
                "y": [0, 1],
                "mode": "lines",
                "name": both("完全校准", "perfectly calibrated", language),
                "line": {"color": "#999999", "dash": "dash"},
                "hoverinfo": "skip",
            }
        )
        chart = {
            "data": lines,
            "layout": layout(
                420,
                xaxis={
                    "title": title(both("预测流失风险", "predicted churn risk", language)),
                    "range": [0, 1],
                    "tickformat": ".0%",
                },
                yaxis={
                    "title": title(both("实际流失率", "observed churn", language)),
                    "range": [0, 1],
                    "tickformat": ".0%",
                },
                # above the plot: in its half-width panel plotly put it over the curves' top end
                legend=legend_above(),
            ),
        }
        figures.append(
            (
                both(
                    "流失模型校准：各预测风险十分位的实际与预测流失（回测合并）",
                    "churn model calibration: observed against predicted churn per decile, backtest cutoffs pooled",
                    language,
                ),
                chart,
            )
        )
    return figures
