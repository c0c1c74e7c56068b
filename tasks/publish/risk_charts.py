"""The HTML report's churn-risk and value charts: risk tiers, predicted value by segment, calibration.

report_data and report_figures (tasks/publish/report.py) call these; the rows come from
sql/published/risk_value_by_segment.sql and sql/published/churn_calibration.sql.
"""

from datetime import date
from typing import TYPE_CHECKING, Any

from tasks.shared.config import PredictConfig

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from tasks.shared.warehouse import Warehouse

TIERS = (("high", "高", "#E45756"), ("medium", "中", "#F58518"), ("low", "低", "#54A24B"))
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


def _value_figure(labels: list[str], values: list[float], customers: list[int]) -> "go.Figure":
    """Predicted value as bars (left axis) and customers as markers (right axis), one per label."""
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=labels,
            y=values,
            name="predicted value",
            marker_color="#4C78A8",
            hovertemplate="%{x}: %{y:,.2f}<extra>predicted value</extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=customers,
            name="customers with a forecast",
            mode="markers",
            marker={"color": "#F58518", "size": 10, "symbol": "diamond"},
            yaxis="y2",
            hovertemplate="%{x}: %{y:,}<extra>customers</extra>",
        )
    )
    figure.update_layout(
        yaxis={"title": "predicted value (base currency)", "rangemode": "tozero"},
        yaxis2={
            "title": "customers",
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "tickmode": "auto",  # round counts, not ticks synced to the value axis
            "showgrid": False,
        },
        legend={"orientation": "h", "y": 1.12},
    )
    if not labels:
        figure.add_annotation(
            text="no predicted value on this day", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
        figure.update_layout(xaxis_visible=False, yaxis_visible=False, yaxis2_visible=False, showlegend=False)
    return figure


def risk_figures(data: dict[str, Any]) -> list[tuple[str, "go.Figure"]]:
    """The risk tier, value and calibration charts, titled (calibration only when the backtests have it)."""
    import plotly.graph_objects as go

    horizon = data.get("horizon_days", PredictConfig().horizon_days)
    rows = [dict(zip(RISK_VALUE_COLUMNS, row, strict=True)) for row in data.get("risk_value", [])]
    tiers = {row["segment"]: row for row in rows if row["scheme"] == "risk"}
    unscored = tiers[NO_TIER]["customers"] if NO_TIER in tiers else 0
    counts = [tiers[name]["customers"] if name in tiers else 0 for name, _, _ in TIERS]
    distribution = go.Figure(
        go.Bar(
            x=[f"{zh} {name}" for name, zh, _ in TIERS],
            y=counts,
            marker_color=[colour for *_, colour in TIERS],
            text=[f"{n:,}" for n in counts],
            textposition="outside",
            textangle=0,
            cliponaxis=False,
            hovertemplate="%{x}: %{y:,} customers<extra></extra>",
        ),
        layout={"yaxis": {"title": "customers", "rangemode": "tozero"}},
    )
    if not any(counts):
        distribution.add_annotation(
            text="no churn risk on this day", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
    title = f"Predicted value over the next {horizon} days (未来{horizon}天预测价值) and customers"
    segments = [row for row in rows if row["scheme"] == "rfm" and row["valued"]]
    valued_tiers = [(zh, tiers[name]) for name, zh, _ in TIERS if name in tiers and tiers[name]["valued"]]
    figures = [
        (
            f"Churn risk tiers (流失风险等级): customers per tier (without a risk score: {unscored:,})",
            distribution,
        ),
        (
            f"{title}, by RFM segment",
            _value_figure(
                [f"{row['segment']} {row['segment_zh'] or ''}".strip() for row in segments],
                [float(row["predicted_value"] or 0) for row in segments],
                [row["valued"] for row in segments],
            ),
        ),
        (
            f"{title}, by risk tier",
            _value_figure(
                [f"{zh} {row['segment']}" for zh, row in valued_tiers],
                [float(row["predicted_value"] or 0) for _, row in valued_tiers],
                [row["valued"] for _, row in valued_tiers],
            ),
        ),
    ]

    calibration = data.get("calibration", [])
    if calibration:
        chart = go.Figure()
        for model in sorted({m for m, *_ in calibration}):
            # rows of sql/published/churn_calibration.sql: model, decile, customers, mean predicted, observed
            deciles = [row[1:] for row in calibration if row[0] == model]
            chart.add_trace(
                go.Scatter(
                    x=[float(predicted) for _, _, predicted, _ in deciles],
                    y=[float(observed) for *_, observed in deciles],
                    mode="lines+markers",
                    name=f"{model} (used)" if model == data.get("churn_model") else model,
                    customdata=[[decile, customers] for decile, customers, _, _ in deciles],
                    hovertemplate="decile %{customdata[0]} (%{customdata[1]:,} customers): "
                    "predicted %{x:.1%}, observed %{y:.1%}",
                )
            )
        chart.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="perfectly calibrated",
                line={"color": "#999999", "dash": "dash"},
                hoverinfo="skip",
            )
        )
        chart.update_layout(
            xaxis={"title": "mean predicted churn risk (decile)", "range": [0, 1], "tickformat": ".0%"},
            yaxis={"title": "observed churn rate", "range": [0, 1], "tickformat": ".0%"},
        )
        figures.append(
            (
                "Churn model calibration (校准): observed against predicted churn per decile of predicted "
                "risk, backtest cutoffs pooled",
                chart,
            )
        )
    return figures
