"""The HTML report's chart builders: labelled horizontal bars, change bars, trend panels, interval charts.

Pure functions from plain rows to plotly figures; tasks/publish/report.py decides what goes in them.
Every bar carries its value, every panel has its own colours (no colour twice in one panel), and the
customers without a purchase are drawn apart from the purchasers' segments.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tasks.publish.labels import FONT_STACK, Language, both

if TYPE_CHECKING:
    import plotly.graph_objects as go

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


def palette(n: int) -> list[str]:
    """n distinct qualitative colours (Tableau 10, else Dark24, else Alphabet; repeats only beyond 26)."""
    import plotly.colors as colours

    for choice in (T10, colours.qualitative.Dark24, colours.qualitative.Alphabet):
        if n <= len(choice):
            return list(choice[:n])
    return [colours.qualitative.Alphabet[i % 26] for i in range(n)]


def layout(figure: "go.Figure", height: int, **extra: Any) -> "go.Figure":
    """The report's look: white template, the CJK font stack, compact margins."""
    figure.update_layout(
        height=height,
        template="plotly_white",
        font={"family": FONT_STACK, "size": 13},
        margin={"t": 30, "l": 10, "r": 20, "b": 40},
        hoverlabel={"font_family": FONT_STACK},
        **extra,
    )
    return figure


def empty(figure: "go.Figure", message: str) -> "go.Figure":
    """A figure that says in words that it has nothing to draw."""
    figure.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    figure.update_layout(xaxis_visible=False, yaxis_visible=False, showlegend=False)
    return figure


def size_bars(
    labels: Sequence[str],
    counts: Sequence[int],
    total: int,
    colours: Sequence[str],
    language: Language,
    apart: tuple[str, int] | None = None,
) -> "go.Figure":
    """Horizontal bars, first label on top, each with its count and share of total customers.

    apart: the customers without a purchase (label, count), drawn as a bar of its own below, on its own
    axis, so that their number does not flatten the purchasers' segments.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    def bar(names: Sequence[str], values: Sequence[int], fill: Sequence[str]) -> go.Bar:
        return go.Bar(
            y=list(names),
            x=list(values),
            orientation="h",
            marker_color=list(fill),
            text=[f"{n:,} ({n / total if total else 0:.1%})" for n in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )

    rows = max(len(labels), 1)
    if apart is None:
        figure = go.Figure(bar(labels, counts, colours))
    else:
        figure = make_subplots(rows=2, cols=1, row_heights=[rows, 1.6], vertical_spacing=0.9 / (rows + 3))
        figure.add_trace(bar(labels, counts, colours), row=1, col=1)
        figure.add_trace(bar([apart[0]], [apart[1]], [NO_PURCHASE_COLOUR]), row=2, col=1)
        figure.update_xaxes(range=[0, apart[1] * 1.5 or 1], tickformat=",d", row=2, col=1)
    figure.update_yaxes(autorange="reversed", automargin=True, type="category")
    figure.update_xaxes(
        range=[0, max(counts, default=0) * 1.5 or 1], tickformat=",d", selector={"anchor": "y"}
    )
    figure.update_xaxes(title=both("客户数", "customers", language), selector=-1)
    figure = layout(figure, 70 + BAR_HEIGHT * max(len(labels), 2) + (90 if apart else 0), showlegend=False)
    figure.update_layout(margin_r=LABEL_ROOM)  # the value labels of the longest bars draw in the margin
    return (
        figure if labels or apart else empty(figure, both("今日无客户", "no customers on this day", language))
    )


def change_bars(
    labels: Sequence[str], entered: Sequence[int], exited: Sequence[int], language: Language
) -> "go.Figure":
    """Entered (right, green) and exited (left, red) customers of each segment, with their counts."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for name, counts, colour, sign in (
        (both("进入", "entered", language), entered, ENTERED, 1),
        (both("离开", "exited", language), exited, EXITED, -1),
    ):
        figure.add_trace(
            go.Bar(
                y=list(labels),
                x=[sign * n for n in counts],
                orientation="h",
                name=name,
                marker_color=colour,
                text=[f"{sign * n:+,}" if n else "" for n in counts],
                textposition="outside",
                cliponaxis=False,
                customdata=list(counts),
                hovertemplate="%{y}: %{customdata:,}<extra>" + name + "</extra>",
            )
        )
    peak = max([*entered, *exited, 0]) or 1
    figure.update_yaxes(autorange="reversed", automargin=True, type="category")
    figure.update_xaxes(
        title=both("客户数", "customers", language),
        range=[-peak * 1.4, peak * 1.4],
        tickformat=",d",
        zeroline=True,
    )
    figure = layout(
        figure,
        90 + BAR_HEIGHT * max(len(labels), 2),
        barmode="relative",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
    )
    figure.update_layout(margin_r=60)  # room for the labels of the longest bars
    return figure if labels else empty(figure, both("无变化", "no changes", language))


def trend_lines(
    days: Sequence[str], series: dict[str, list[int | None]], colours: dict[str, str], language: Language
) -> "go.Figure":
    """One line per series over the published days (a marker alone when there is one day)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    mode = "lines+markers" if len(days) > 1 else "markers"
    for name, counts in series.items():
        figure.add_trace(
            go.Scatter(
                x=list(days),
                y=counts,
                name=name,
                mode=mode,
                line={"color": colours[name], "width": 2},
                marker={"color": colours[name], "size": 7},
                hovertemplate="%{x}: %{y:,}<extra>" + name + "</extra>",
            )
        )
    figure.update_xaxes(type="category", title=both("发布日", "published day", language))
    figure.update_yaxes(title=both("客户数", "customers", language), rangemode="tozero", tickformat=",d")
    figure = layout(figure, max(300, 110 + 22 * len(series)), legend={"font": {"size": 11}})
    return figure if series else empty(figure, both("无历史", "no history", language))


def interval_chart(
    labels: Sequence[str],
    differences: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    language: Language,
    texts: Sequence[str] | None = None,
) -> "go.Figure":
    """Each difference as a point (labelled with texts, else the number) with its 95% interval as error bars."""
    import plotly.graph_objects as go

    colours = [
        "#54A24B" if lo > 0 else "#E45756" if hi < 0 else "#7F7F7F"
        for lo, hi in zip(lows, highs, strict=True)
    ]
    figure = go.Figure(
        go.Scatter(
            x=list(differences),
            y=list(labels),
            mode="markers+text",
            marker={"color": colours, "size": 11},
            text=list(texts) if texts is not None else [f"{d:+.3g}" for d in differences],
            textposition="top center",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [hi - d for d, hi in zip(differences, highs, strict=True)],
                "arrayminus": [d - lo for d, lo in zip(differences, lows, strict=True)],
                "thickness": 2,
                "width": 6,
            },
            customdata=[[lo, hi] for lo, hi in zip(lows, highs, strict=True)],
            hovertemplate="%{y}: %{x:.4g} [%{customdata[0]:.4g}, %{customdata[1]:.4g}]<extra></extra>",
        )
    )
    figure.add_vline(x=0, line={"color": "#333333", "dash": "dash", "width": 1})
    figure.update_yaxes(autorange="reversed", automargin=True, type="category")
    figure.update_xaxes(title=both("处理组 − 对照组", "treated − holdout", language))
    return layout(figure, 90 + 40 * max(len(labels), 2), showlegend=False)


def grouped_bars(
    categories: Sequence[str], groups: dict[str, list[float]], language: Language, percent: bool, axis: str
) -> "go.Figure":
    """Horizontal grouped bars, one colour per group, each bar with its value."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for (name, values), colour in zip(groups.items(), palette(len(groups)), strict=True):
        figure.add_trace(
            go.Bar(
                y=list(categories),
                x=values,
                name=name,
                orientation="h",
                marker_color=colour,
                text=[_number(v, percent) for v in values],
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{y}: %{x}<extra>" + name + "</extra>",
            )
        )
    peak = max((v for values in groups.values() for v in values), default=0) or 1
    figure.update_yaxes(autorange="reversed", automargin=True, type="category")
    figure.update_xaxes(title=axis, range=[0, peak * 1.3], tickformat=".0%" if percent else None)
    height = 110 + 18 * len(groups) * max(len(categories), 1) + 20 * len(categories)
    return layout(
        figure, height, barmode="group", legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0}
    )


def _number(value: float, percent: bool) -> str:
    """A bar's value as read: a share in percent, a count with thousands separators, else three decimals."""
    if percent:
        return f"{value:.1%}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}"


def heatmap(
    z: list[list[float]], text: list[list[str]], x: Sequence[str], y: Sequence[str], colour_title: str
) -> "go.Figure":
    """A heatmap with each cell's text written in it."""
    import plotly.graph_objects as go

    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(x),
            y=list(y),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            colorbar={"title": {"text": colour_title}},
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_yaxes(automargin=True, type="category")
    figure.update_xaxes(type="category")
    return layout(figure, 120 + 40 * max(len(y), 3))


@dataclass
class Section:
    """A headed part of the HTML report: sentences, charts (title, figure, full width?) and tables."""

    heading: str
    notes: list[str] = field(default_factory=list)
    charts: list[tuple[str, "go.Figure", bool]] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[Any]]]] = field(default_factory=list)
