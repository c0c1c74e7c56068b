"""The report's figure specs: plain dicts that are exactly what plotly.graph_objects would have drawn."""

import json
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.io.json import to_json_plotly
from plotly.subplots import make_subplots

from tasks.publish.labels import FONT_STACK
from tasks.publish.report import report_figures
from tasks.publish.report_charts import (
    Figure,
    change_bars,
    grouped_bars,
    heatmap,
    interval_chart,
    size_bars,
    stacked_domains,
    template,
    trend_lines,
)
from tasks.publish.risk_charts import risk_figures
from tests.unit.publish.test_report import ACT, DATA

LOOK = {  # the layout every chart shares, the template apart
    "font": {"family": FONT_STACK, "size": 13},
    "hoverlabel": {"font": {"family": FONT_STACK}},
}


def as_read(figure: Any) -> dict[str, Any]:
    """The figure as plotly.js receives it: the JSON the report writes, read back."""
    return json.loads(to_json_plotly(figure))


def validated(figure: Figure) -> dict[str, Any]:
    """The same figure after plotly.graph_objects validated and normalized every property of it."""
    return as_read(go.Figure(figure).to_plotly_json())


def without_template(figure: Figure) -> dict[str, Any]:
    """The figure's JSON without its layout template (checked once, separately)."""
    read = as_read(figure)
    assert read["layout"].pop("template") == as_read(template())
    return read


@pytest.mark.parametrize(
    "data",
    [
        {**DATA, "act": ACT},
        {**DATA, "act": ACT, "language": "en"},
        {**DATA, "segment_changes": [row[:4] + (None,) for row in DATA["segment_changes"]]},
        {**DATA, "risk_value": [], "calibration": [], "segments": [], "heatmap": [], "clusters": []},
    ],
    ids=["zh", "en", "first-day", "nothing-to-draw"],
)
def test_every_report_figure_is_what_plotly_validates_it_to(data: dict[str, Any]) -> None:
    """graph_objects changes nothing in a spec: every property is one plotly knows, in its normal form."""
    figures = report_figures(data)
    assert figures
    for title, figure in figures:
        assert validated(figure) == as_read(figure), title


def test_empty_charts_are_what_plotly_validates_them_to() -> None:
    charts = [
        size_bars([], [], 0, [], "zh"),
        size_bars([], [], 0, [], "zh", apart=("x", 0)),
        change_bars([], [], [], "en"),
        trend_lines(["2026-01-01"], {}, {}, "en"),
        grouped_bars([], {}, "zh", percent=True, axis="rows"),
        interval_chart([], [], [], [], "zh"),
        heatmap([[1]], [["1"]], ["a"], ["b"], "t"),
        *(figure for _, figure in risk_figures({"risk_value": []}, "zh")),
    ]
    for figure in charts:
        assert validated(figure) == as_read(figure)


def test_the_template_is_plotly_white_as_plotly_loads_it() -> None:
    assert as_read(template()) == as_read(pio.templates["plotly_white"].to_plotly_json())


@pytest.mark.parametrize("rows", range(1, 40))
def test_the_stacked_panels_have_make_subplots_domains_to_the_last_bit(rows: int) -> None:
    subplots = make_subplots(rows=2, cols=1, row_heights=[rows, 1.6], vertical_spacing=0.9 / (rows + 3))
    top, bottom = stacked_domains(rows)
    assert (top, bottom) == (list(subplots.layout.yaxis.domain), list(subplots.layout.yaxis2.domain))


def test_size_bars_with_the_non_purchasers_apart() -> None:
    figure = size_bars(["a", "b"], [2, 2], 5, ["#4C78A8", "#F58518"], "zh", apart=("none", 1))
    bar = {
        "type": "bar",
        "orientation": "h",
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{x:,}<extra></extra>",
    }
    categories = {"autorange": "reversed", "automargin": True, "type": "category"}
    assert without_template(figure) == {
        "data": [
            {
                **bar,
                "y": ["a", "b"],
                "x": [2, 2],
                "marker": {"color": ["#4C78A8", "#F58518"]},
                "text": ["2 (40.0%)", "2 (40.0%)"],
                "xaxis": "x",
                "yaxis": "y",
            },
            {
                **bar,
                "y": ["none"],
                "x": [1],
                "marker": {"color": ["#9E9E9E"]},
                "text": ["1 (20.0%)"],
                "xaxis": "x2",
                "yaxis": "y2",
            },
        ],
        "layout": {
            **LOOK,
            "height": 212,
            "margin": {"t": 30, "l": 10, "r": 110, "b": 40},
            "showlegend": False,
            "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "range": [0, 3.0], "tickformat": ",d"},
            "yaxis": {"anchor": "x", "domain": [0.5444444444444445, 1.0], **categories},
            "xaxis2": {
                "anchor": "y2",
                "domain": [0.0, 1.0],
                "range": [0, 1.5],
                "tickformat": ",d",
                "title": {"text": "客户数 customers"},
            },
            "yaxis2": {"anchor": "x2", "domain": [0.0, 0.3644444444444445], **categories},
        },
    }


def test_size_bars_alone_keep_plotlys_axis_without_a_range() -> None:
    """Without the non-purchasers' panel the value axis has its title only (as graph_objects left it)."""
    figure = size_bars(["a", "b"], [3, 4], 10, ["#111111", "#222222"], "en")
    assert without_template(figure)["layout"] == {
        **LOOK,
        "height": 122,
        "margin": {"t": 30, "l": 10, "r": 110, "b": 40},
        "showlegend": False,
        "xaxis": {"title": {"text": "customers 客户数"}},
        "yaxis": {"autorange": "reversed", "automargin": True, "type": "category"},
    }
    assert without_template(size_bars([], [], 0, [], "en"))["layout"]["annotations"] == [
        {
            "text": "no customers on this day 今日无客户",
            "showarrow": False,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
        }
    ]


def test_a_heatmap_spells_out_plotlys_blues() -> None:
    (cells,) = heatmap([[1]], [["1"]], ["a"], ["b"], "t")["data"]
    assert cells["colorscale"] == [
        [0.0, "rgb(247,251,255)"],
        [0.125, "rgb(222,235,247)"],
        [0.25, "rgb(198,219,239)"],
        [0.375, "rgb(158,202,225)"],
        [0.5, "rgb(107,174,214)"],
        [0.625, "rgb(66,146,198)"],
        [0.75, "rgb(33,113,181)"],
        [0.875, "rgb(8,81,156)"],
        [1.0, "rgb(8,48,107)"],
    ]


def test_the_calibration_legend_is_above_its_plot() -> None:
    """In a half-width panel plotly put the legend inside the plot, over the curves' top end."""
    figures = dict(risk_figures(DATA, "en"))
    (calibration,) = [
        figure for title, figure in figures.items() if title.startswith("churn model calibration")
    ]
    assert calibration["layout"]["legend"] == {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0}
    assert calibration["data"][-1]["name"].startswith("perfectly calibrated")


def test_the_value_charts_put_customers_beside_the_values_not_over_their_labels() -> None:
    charts = [figure for title, figure in risk_figures(DATA, "en") if title.startswith("predicted value")]
    assert len(charts) == 2  # by RFM segment and by risk tier
    for figure in charts:
        value, customers = figure["data"]
        assert (value["type"], value["offsetgroup"], value["textposition"]) == ("bar", "value", "outside")
        assert (customers["type"], customers["offsetgroup"], customers["yaxis"]) == ("bar", "customers", "y2")
        assert figure["layout"]["barmode"] == "group"


def test_the_cluster_heatmap_keeps_its_labels_level_on_two_lines() -> None:
    # rotated, its long measure names took most of the chart's height and left each row a few pixels
    figures = dict(report_figures(DATA))
    (means,) = [figure for name, figure in figures.items() if "cluster means" in name]
    assert means["layout"]["xaxis"] == {"type": "category", "tickangle": 0, "automargin": True}
    assert means["data"][0]["x"][0] == "最近购买天数（付费客户）<br>(days since purchase (buyers))"
