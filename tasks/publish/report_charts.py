"""The HTML report's chart builders: labelled horizontal bars, change bars, trend panels, interval charts.

Pure functions from plain rows to figure specs: the dicts plotly.js reads (`{"data": [...], "layout":
{...}}`), written out as plotly.graph_objects would serialize them, without building and validating graph
objects (which cost seconds per report: every update walks plotly's property validators). Axis titles
are `{"text": ...}`, a named colour scale is spelled out as its stops, a property plotly would leave
unset is absent, and every layout carries the plotly_white template read from plotly's own package data,
so the page the reader sees is the one graph_objects drew. tasks/publish/report.py decides what goes in
them. Every bar carries its value, every panel has its own colours (no colour twice in one panel), and
the customers without a purchase are drawn apart from the purchasers' segments.
"""

import json
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tasks.publish.labels import FONT_STACK, Language, both

# A figure as plotly.js takes it: {"data": [trace, ...], "layout": {...}}.
Figure = dict[str, Any]

# Qualitative palettes, the smallest that has a colour for each series of a panel.
T10 = (
    "#4C78A8",
    "#F58518",
    "#E45756",
    "#72B7B2",
    "#54A24B",
    "#EECA3B",
    "#B279A2",
    "#FF9DA6",
    "#9D755D",
    "#BAB0AC",
)
NO_PURCHASE_COLOUR = "#9E9E9E"
ENTERED, EXITED = "#54A24B", "#E45756"
BAR_HEIGHT = 26
LABEL_ROOM = 110  # px right of the plot for "12,345 (67.8%)"
TEMPLATE = "plotly_white"
# The category axis of horizontal bars: first label on top, room for long labels.
BAR_CATEGORIES = {"autorange": "reversed", "automargin": True, "type": "category"}


def palette(n: int) -> list[str]:
    """n distinct qualitative colours (Tableau 10, else Dark24, else Alphabet; repeats only beyond 26)."""
    import plotly.colors as colours

    for choice in (T10, colours.qualitative.Dark24, colours.qualitative.Alphabet):
        if n <= len(choice):
            return list(choice[:n])
    return [colours.qualitative.Alphabet[i % 26] for i in range(n)]


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    """The plotly_white template as plotly ships it (the JSON plotly.io.templates loads); do not modify."""
    return json.loads(pkgutil.get_data("plotly", f"package_data/templates/{TEMPLATE}.json") or b"{}")


def colour_scale(name: str) -> list[list[Any]]:
    """A named sequential colour scale of plotly as [[stop, colour], ...] (plotly.js's own "Blues" differs)."""
    import plotly.colors as colours

    stops = getattr(colours.sequential, name)
    return [[(1.0 * i) / (1.0 * (len(stops) - 1)), colour] for i, colour in enumerate(stops)]


def title(text: str) -> dict[str, str]:
    """An axis or colour bar title."""
    return {"text": text}


def legend_above() -> dict[str, Any]:
    """A legend in one row above the plot, from its left edge: never over the bars or lines (a new dict each
    time: a figure's layout is its own)."""
    return {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0}


def layout(height: int, margin_r: int = 20, **extra: Any) -> dict[str, Any]:
    """The report's look: white template, the CJK font stack, compact margins; extra layout properties."""
    return {
        "template": template(),
        "height": height,
        "font": {"family": FONT_STACK, "size": 13},
        "margin": {"t": 30, "l": 10, "r": margin_r, "b": 40},
        "hoverlabel": {"font": {"family": FONT_STACK}},
        **extra,
    }


def empty(figure: Figure, message: str, axes: Sequence[str] = ("xaxis", "yaxis")) -> Figure:
    """A figure that says in words that it has nothing to draw (its axes hidden)."""
    shown = figure["layout"]
    shown["annotations"] = [
        {"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
    ]
    for axis in axes:
        shown[axis] = {**shown.get(axis, {}), "visible": False}
    shown["showlegend"] = False
    return figure


def size_bars(
    labels: Sequence[str],
    counts: Sequence[int],
    total: int,
    colours: Sequence[str],
    language: Language,
    apart: tuple[str, int] | None = None,
) -> Figure:
    """Horizontal bars, first label on top, each with its count and share of total customers.

    apart: the customers without a purchase (label, count), drawn as a bar of its own below, on its own
    axis, so that their number does not flatten the purchasers' segments.
    """

    def bar(names: Sequence[str], values: Sequence[int], fill: Sequence[str]) -> dict[str, Any]:
        return {
            "type": "bar",
            "y": list(names),
            "x": list(values),
            "orientation": "h",
            "marker": {"color": list(fill)},
            "text": [f"{n:,} ({n / total if total else 0:.1%})" for n in values],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{y}: %{x:,}<extra></extra>",
        }

    customers = title(both("客户数", "customers", language))
    height = 70 + BAR_HEIGHT * max(len(labels), 2) + (90 if apart else 0)
    if apart is None:
        axes: dict[str, Any] = {"xaxis": {"title": customers}, "yaxis": dict(BAR_CATEGORIES)}
        data = [bar(labels, counts, colours)]
    else:
        top, bottom = stacked_domains(max(len(labels), 1))
        axes = {
            "xaxis": {
                "anchor": "y",
                "domain": [0.0, 1.0],
                "range": [0, max(counts, default=0) * 1.5 or 1],
                "tickformat": ",d",
            },
            "yaxis": {"anchor": "x", "domain": top, **BAR_CATEGORIES},
            "xaxis2": {
                "anchor": "y2",
                "domain": [0.0, 1.0],
                "range": [0, apart[1] * 1.5 or 1],
                "tickformat": ",d",
                "title": customers,
            },
            "yaxis2": {"anchor": "x2", "domain": bottom, **BAR_CATEGORIES},
        }
        data = [
            {**bar(labels, counts, colours), "xaxis": "x", "yaxis": "y"},
            {**bar([apart[0]], [apart[1]], [NO_PURCHASE_COLOUR]), "xaxis": "x2", "yaxis": "y2"},
        ]
    # the value labels of the longest bars draw in the right margin
    figure = {"data": data, "layout": layout(height, margin_r=LABEL_ROOM, showlegend=False, **axes)}
    return (
        figure if labels or apart else empty(figure, both("今日无客户", "no customers on this day", language))
    )


def stacked_domains(rows: int) -> tuple[list[float], list[float]]:
    """The y domains of two stacked panels, `rows` bars high above 1.6 below, as plotly's make_subplots sets them.

    make_subplots(rows=2, cols=1, row_heights=[rows, 1.6], vertical_spacing=0.9 / (rows + 3)), with its
    arithmetic step for step, so that the domains are the same floats.
    """
    spacing = 0.9 / (rows + 3)
    weights = float(sum([rows, 1.6]))
    upper = (1.0 - spacing) * (rows / weights)
    lower = (1.0 - spacing) * (1.6 / weights)
    start = lower + spacing
    end = start + upper
    return [start, 1.0 if 1.0 < end < 1.01 else end], [0.0, lower]


def change_bars(
    labels: Sequence[str], entered: Sequence[int], exited: Sequence[int], language: Language
) -> Figure:
    """Entered (right, green) and exited (left, red) customers of each segment, with their counts."""
    data = []
    for name, counts, colour, sign in (
        (both("进入", "entered", language), entered, ENTERED, 1),
        (both("离开", "exited", language), exited, EXITED, -1),
    ):
        data.append(
            {
                "type": "bar",
                "y": list(labels),
                "x": [sign * n for n in counts],
                "orientation": "h",
                "name": name,
                "marker": {"color": colour},
                "text": [f"{sign * n:+,}" if n else "" for n in counts],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": list(counts),
                "hovertemplate": "%{y}: %{customdata:,}<extra>" + name + "</extra>",
            }
        )
    peak = max([*entered, *exited, 0]) or 1
    figure = {
        "data": data,
        "layout": layout(
            90 + BAR_HEIGHT * max(len(labels), 2),
            margin_r=60,  # room for the labels of the longest bars
            yaxis=dict(BAR_CATEGORIES),
            xaxis={
                "title": title(both("客户数", "customers", language)),
                "range": [-peak * 1.4, peak * 1.4],
                "tickformat": ",d",
                "zeroline": True,
            },
            barmode="relative",
            legend=legend_above(),
        ),
    }
    return figure if labels else empty(figure, both("无变化", "no changes", language))


def trend_lines(
    days: Sequence[str], series: dict[str, list[int | None]], colours: dict[str, str], language: Language
) -> Figure:
    """One line per series over the published days (a marker alone when there is one day)."""
    mode = "lines+markers" if len(days) > 1 else "markers"
    data = [
        {
            "type": "scatter",
            "x": list(days),
            "y": list(counts),
            "name": name,
            "mode": mode,
            "line": {"color": colours[name], "width": 2},
            "marker": {"color": colours[name], "size": 7},
            "hovertemplate": "%{x}: %{y:,}<extra>" + name + "</extra>",
        }
        for name, counts in series.items()
    ]
    figure = {
        "data": data,
        "layout": layout(
            max(300, 110 + 22 * len(series)),
            xaxis={"type": "category", "title": title(both("发布日", "published day", language))},
            yaxis={
                "title": title(both("客户数", "customers", language)),
                "rangemode": "tozero",
                "tickformat": ",d",
            },
            legend={"font": {"size": 11}},
        ),
    }
    return figure if series else empty(figure, both("无历史", "no history", language))


def interval_chart(
    labels: Sequence[str],
    differences: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    language: Language,
    texts: Sequence[str] | None = None,
) -> Figure:
    """Each difference as a point (labelled with texts, else the number) with its 95% interval as error bars."""
    colours = [
        "#54A24B" if lo > 0 else "#E45756" if hi < 0 else "#7F7F7F"
        for lo, hi in zip(lows, highs, strict=True)
    ]
    point = {
        "type": "scatter",
        "x": list(differences),
        "y": list(labels),
        "mode": "markers+text",
        "marker": {"color": colours, "size": 11},
        "text": list(texts) if texts is not None else [f"{d:+.3g}" for d in differences],
        "textposition": "top center",
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [hi - d for d, hi in zip(differences, highs, strict=True)],
            "arrayminus": [d - lo for d, lo in zip(differences, lows, strict=True)],
            "thickness": 2,
            "width": 6,
        },
        "customdata": [[lo, hi] for lo, hi in zip(lows, highs, strict=True)],
        "hovertemplate": "%{y}: %{x:.4g} [%{customdata[0]:.4g}, %{customdata[1]:.4g}]<extra></extra>",
    }
    zero = {  # a vertical line at 0 across the plot (what plotly's add_vline writes)
        "type": "line",
        "x0": 0,
        "x1": 0,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
        "line": {"color": "#333333", "dash": "dash", "width": 1},
    }
    return {
        "data": [point],
        "layout": layout(
            90 + 40 * max(len(labels), 2),
            shapes=[zero],
            yaxis=dict(BAR_CATEGORIES),
            xaxis={"title": title(both("处理组 − 对照组", "treated − holdout", language))},
            showlegend=False,
        ),
    }


def grouped_bars(
    categories: Sequence[str], groups: dict[str, list[float]], language: Language, percent: bool, axis: str
) -> Figure:
    """Horizontal grouped bars, one colour per group, each bar with its value."""
    data = [
        {
            "type": "bar",
            "y": list(categories),
            "x": list(values),
            "name": name,
            "orientation": "h",
            "marker": {"color": colour},
            "text": [_number(v, percent) for v in values],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{y}: %{x}<extra>" + name + "</extra>",
        }
        for (name, values), colour in zip(groups.items(), palette(len(groups)), strict=True)
    ]
    peak = max((v for values in groups.values() for v in values), default=0) or 1
    values_axis: dict[str, Any] = {"title": title(axis), "range": [0, peak * 1.3]}
    if percent:
        values_axis["tickformat"] = ".0%"
    height = 110 + 18 * len(groups) * max(len(categories), 1) + 20 * len(categories)
    return {
        "data": data,
        "layout": layout(
            height,
            yaxis=dict(BAR_CATEGORIES),
            xaxis=values_axis,
            barmode="group",
            legend=legend_above(),
        ),
    }


def _number(value: float, percent: bool) -> str:
    """A bar's value as read: a share in percent, a count with thousands separators, else three decimals."""
    if percent:
        return f"{value:.1%}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}"


def heatmap(
    z: list[list[float]], text: list[list[str]], x: Sequence[str], y: Sequence[str], colour_title: str
) -> Figure:
    """A heatmap with each cell's text written in it."""
    cells = {
        "type": "heatmap",
        "z": z,
        "x": list(x),
        "y": list(y),
        "text": text,
        "texttemplate": "%{text}",
        "colorscale": colour_scale("Blues"),
        "colorbar": {"title": title(colour_title)},
        "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>",
    }
    return {
        "data": [cells],
        "layout": layout(
            120 + 40 * max(len(y), 3),
            yaxis={"automargin": True, "type": "category"},
            # level: rotated long labels took most of the height and left the rows a few pixels each
            xaxis={"type": "category", "tickangle": 0, "automargin": True},
        ),
    }


@dataclass
class Section:
    """A headed part of the HTML report: sentences, charts (title, figure, full width?) and tables."""

    heading: str
    notes: list[str] = field(default_factory=list)
    charts: list[tuple[str, Figure, bool]] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[Any]]]] = field(default_factory=list)
