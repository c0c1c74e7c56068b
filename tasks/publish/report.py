"""The run summary and the day's report: report.md (also the Prefect artifact and the CLI) and report.html.

Both read in the configured language (config.report.language): zh puts Chinese first and English second,
en the other way round. report_data reads everything the HTML draws from the published tables into plain
rows (tested on its own); report_sections turns them into headed sections of charts and tables;
render_html writes one self-contained file, plotly.js embedded once, that needs no network.
"""

import html
from datetime import date
from typing import TYPE_CHECKING, Any

from tasks.publish.labels import (
    FONT_STACK,
    ORDER,
    SCHEMES,
    Language,
    amounts_in,
    both,
    english,
    label,
    partial_note,
)
from tasks.publish.report_act import act_sections
from tasks.publish.report_charts import (
    NO_PURCHASE_COLOUR,
    Figure,
    Section,
    change_bars,
    grouped_bars,
    heatmap,
    palette,
    size_bars,
    trend_lines,
)
from tasks.publish.risk_charts import risk_data, risk_figures
from tasks.publish.segment_names import segment_names
from tasks.publish.sizes import size_trend
from tasks.shared.rfm_names import NO_PURCHASE

if TYPE_CHECKING:
    from tasks.shared.warehouse import Warehouse

# Colours that carry meaning: risk red to green; other schemes take a qualitative palette.
LONG_LABEL = 28  # characters
FIXED_COLOURS = {"risk": {"high": "#E45756", "medium": "#F58518", "low": "#54A24B"}}
# the columns of sql/published/segment_size_trend.sql, in order
SIZE_COLUMNS = ("as_of", "scheme", "segment", "label_zh", "label_en", "no_purchase", "customers")


def report_data(
    wh: "Warehouse", as_of: date, summary: dict[str, Any], language: Language = "zh"
) -> dict[str, Any]:
    """Everything the HTML report draws, read from the published tables (plain data, testable).

    The size trend brings published.segment_size_days up to date first (tasks/publish/sizes.py).
    """
    params = {"as_of": as_of}
    customers, purchasers = wh.rows(
        "select count(*), count(frequency) from published.customer_segments where as_of = ?", [as_of]
    )[0]
    has_changes = wh.table_exists("published.segment_changes")
    return {
        "language": language,
        "as_of": str(as_of),
        "run_id": summary.get("run_id", ""),
        "config_hash": summary.get("config_hash", ""),
        "partial": bool(summary.get("partial")),
        "timezone": summary.get("timezone", ""),
        "currency": summary.get("currency", ""),
        "customers": customers,
        "purchasers": purchasers,
        "segments": size_trend(wh, as_of),
        "heatmap": wh.rows(wh.model_sql("published/rf_score_grid"), params),
        "clusters": wh.rows(wh.model_sql("published/cluster_profiles"), params),
        "changes": wh.rows(wh.model_sql("published/segment_change_counts"), params) if has_changes else [],
        "segment_changes": wh.rows(wh.model_sql("published/segment_change_sizes"), params)
        if has_changes
        else [],
        "quality": quality_counts(summary),
        "merged_records": summary.get("dedupe", {}).get("merged_records", 0),
        "act": summary.get("act") or {},
        "segment_names": segment_names(summary, language),
        **risk_data(wh, as_of, summary),
    }


def quality_counts(summary: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(source, quarantined rows, duplicate rows dropped) over every load kept (the publish's sources_kept);
    this run's counts for a summary without them."""
    kept = summary.get("sources_kept")
    rows = kept if kept is not None else summary.get("extract", [])
    return [(s["source"], s["rows_quarantined"], s["duplicates_dropped"]) for s in rows]


# --- the HTML report's sections ----------------------------------------------------------------------


def _segment_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(SIZE_COLUMNS, row, strict=True)) for row in data.get("segments", [])]


def segment_label(row: dict[str, Any], language: Language) -> str:
    """A segment's label in both languages, from its published labels (a cluster by its name)."""
    en = english(row["scheme"], row["segment"], row["label_en"])
    return label(row["label_zh"] or en, en, language)


def _ordered(scheme: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A scheme's segments of one day: in the scheme's natural order, else largest first; no purchase last."""
    order = ORDER.get(scheme)
    key = (
        (lambda r: (order.index(r["segment"]) if r["segment"] in order else len(order), r["segment"]))
        if order
        else (lambda r: (-r["customers"], r["segment"]))
    )
    return sorted((r for r in rows if not r["no_purchase"]), key=key) + [r for r in rows if r["no_purchase"]]


def scheme_sections(data: dict[str, Any]) -> list[Section]:
    """One section per scheme of the day: sizes, changes since the previous published day, the trend."""
    language: Language = data.get("language", "zh")
    rows = _segment_rows(data)
    today = [r for r in rows if str(r["as_of"]) == data["as_of"]]
    days = sorted({str(r["as_of"]) for r in rows})
    total = data.get("customers") or sum(r["customers"] for r in today if r["scheme"] == "rfm")
    changes = data.get("segment_changes", [])
    previous = next((str(p) for *_, p in changes if p is not None), None)
    sections = []
    for scheme, (zh, en) in SCHEMES.items():
        of_day = _ordered(scheme, [r for r in today if r["scheme"] == scheme])
        if not of_day:
            continue
        history = [r for r in rows if r["scheme"] == scheme and not r["no_purchase"]]
        names: dict[str, str] = {}
        for r in sorted(history + of_day, key=lambda r: str(r["as_of"])):  # the latest label of each key
            names[r["segment"]] = segment_label(r, language)
        keys = [r["segment"] for r in _ordered(scheme, of_day) if not r["no_purchase"]]
        keys += sorted({r["segment"] for r in history} - set(keys))
        colours = dict(zip(keys, palette(len(keys)), strict=True))
        if scheme in FIXED_COLOURS:
            colours = {k: FIXED_COLOURS[scheme].get(k, colours[k]) for k in keys}
        section = Section(both(zh, en, language))
        bought = [r for r in of_day if not r["no_purchase"]]
        never = [r for r in of_day if r["no_purchase"]]
        sizes = size_bars(
            [names[r["segment"]] for r in bought],
            [r["customers"] for r in bought],
            total,
            [colours[r["segment"]] for r in bought],
            language,
            apart=(segment_label(never[0], language), never[0]["customers"]) if never else None,
        )
        # long labels (cluster names) leave half a page too little room for the bars: the whole width
        wide = max((len(name) for name in names.values()), default=0) > LONG_LABEL
        section.charts.append(
            (
                both("今日规模（人数与占全部客户比例）", "size today (customers, share of all)", language),
                sizes,
                wide,
            )
        )
        if scheme == "rules":
            section.notes.append(
                both(
                    "一位客户可属于多个规则分群，比例之和可超过 100%。",
                    "A customer can be in several rule segments: shares add up to more than 100%.",
                    language,
                )
            )
        if scheme == "risk":
            unscored = total - sum(r["customers"] for r in of_day)
            section.notes.append(
                both(
                    f"比例以全部 {total:,} 位客户为基数；无流失风险评分的客户：{unscored:,}",
                    f"shares are of all {total:,} customers; customers without a churn risk score: {unscored:,}",
                    language,
                )
            )
        if scheme != "risk":
            moved = [c for c in changes if c[0] == scheme]
            segments = [k for k in [r["segment"] for r in of_day] if k in {c[1] for c in moved}]
            segments += sorted({c[1] for c in moved} - set(segments))
            count = {(c[1], c[2]): c[3] for c in moved}
            since = (
                both(f"进入与离开（对比 {previous}）", f"entered and exited since {previous}", language)
                if previous
                else both(
                    "进入与离开（首个发布日：全部为进入）",
                    "entered and exited (first published day: everyone entered)",
                    language,
                )
            )
            section.charts.append(
                (
                    since,
                    change_bars(
                        [names.get(k, k) for k in segments],
                        [count.get((k, "entered"), 0) for k in segments],
                        [count.get((k, "exited"), 0) for k in segments],
                        language,
                    ),
                    wide,
                )
            )
        by_day = {(str(r["as_of"]), r["segment"]): r["customers"] for r in history}
        series = {names[k]: [by_day.get((d, k), 0) for d in days] for k in keys}
        section.charts.append(
            (
                both(
                    "各发布日规模（不含未购买客户）",
                    "size on each published day (without customers who never bought)",
                    language,
                )
                if any(r["no_purchase"] for r in of_day)
                else both("各发布日规模", "size on each published day", language),
                trend_lines(days, series, {names[k]: colours[k] for k in keys}, language),
                True,
            )
        )
        sections.append(section)
    no_purchase = {str(r["as_of"]): r["customers"] for r in rows if r["scheme"] == "rfm" and r["no_purchase"]}
    if no_purchase:
        name = label(NO_PURCHASE.label_zh, NO_PURCHASE.name, language)
        section = Section(both("未购买客户", "Customers without a purchase", language))
        section.notes.append(
            both(
                "未购买客户单独成图，不与购买客户的分群共用坐标轴。",
                "Customers who never bought are drawn apart, not on the axis of the purchasers' segments.",
                language,
            )
        )
        section.charts.append(
            (
                both("各发布日人数", "customers on each published day", language),
                trend_lines(
                    days, {name: [no_purchase.get(d, 0) for d in days]}, {name: NO_PURCHASE_COLOUR}, language
                ),
                True,
            )
        )
        sections.append(section)
    return sections


def profile_section(data: dict[str, Any]) -> Section | None:
    """The R × F grid and the clusters' mean behaviour, by name."""
    language: Language = data.get("language", "zh")
    section = Section(both("客户画像", "Customer profiles", language))
    grid = [[0] * 5 for _ in range(5)]
    for r, f, n in data.get("heatmap", []):
        grid[r - 1][f - 1] = n
    section.charts.append(
        (
            both("按 R 分与 F 分的客户数", "customers by R score × F score", language),
            heatmap(
                grid,
                [[f"{n:,}" for n in row] for row in grid],
                [f"F{i}" for i in range(1, 6)],
                [f"R{i}" for i in range(1, 6)],
                both("客户数", "customers", language),
            ),
            False,
        )
    )
    clusters = data.get("clusters", [])
    if clusters:
        measures = (
            ("最近购买天数（付费客户）", "days since purchase (buyers)"),
            ("订单数", "orders"),
            ("消费额", "spend"),
            ("90天会话", "sessions 90d"),
        )
        # each measure's mean over all customers: days since purchase over the buyers, the rest over everyone
        means = []
        for i in range(len(measures)):
            weights = [c[8] if i == 0 else c[3] for c in clusters]
            known = [
                (float(c[4 + i]), w) for c, w in zip(clusters, weights, strict=True) if c[4 + i] is not None
            ]
            means.append(sum(v * w for v, w in known) / (sum(w for _, w in known) or 1) or 1)
        values = [
            [None if c[4 + i] is None else float(c[4 + i]) for i in range(len(measures))] for c in clusters
        ]
        section.charts.append(
            (
                both(
                    "聚类客群的平均值（颜色：相对全部客户）",
                    "cluster means (colour: relative to all customers)",
                    language,
                ),
                heatmap(
                    [[0 if v is None else v / m for v, m in zip(row, means, strict=True)] for row in values],
                    [["–" if v is None else f"{v:,.1f}" for v in row] for row in values],
                    [label(zh, en, language, between="<br>") for zh, en in measures],
                    [f"{label(c[1], c[2], language)} · {c[3]:,}" for c in clusters],
                    both("相对均值", "× mean", language),
                ),
                True,
            )
        )
    return section


def quality_section(data: dict[str, Any]) -> Section:
    """Rows kept out of staging per source, over all loads."""
    language: Language = data.get("language", "zh")
    quality = data.get("quality", [])
    section = Section(both("数据质量", "Data quality", language))
    section.notes.append(
        both("去重时与其他记录合并的客户记录", "customer records merged with another by dedupe", language)
        + f": {data.get('merged_records', 0):,}"
    )
    section.charts.append(
        (
            both("未进入入库层的行（全部加载）", "rows kept out of staging, all loads", language),
            grouped_bars(
                [s for s, _, _ in quality],
                {
                    both("隔离行", "quarantined rows", language): [q for _, q, _ in quality],
                    both("重复删除", "duplicate rows dropped", language): [d for _, _, d in quality],
                },
                language,
                percent=False,
                axis=both("行数", "rows", language),
            ),
            False,
        )
    )
    return section


def report_sections(data: dict[str, Any]) -> list[Section]:
    """The HTML report's sections in reading order."""
    language: Language = data.get("language", "zh")
    sections = scheme_sections(data)
    sections.append(profile_section(data))
    risk = risk_figures(data, language)
    if data.get("risk_value") or data.get("calibration"):
        sections.append(
            Section(
                both("流失风险与预测价值", "Churn risk and predicted value", language),
                charts=[(t, f, i == 0) for i, (t, f) in enumerate(risk)],
            )
        )
    return sections + act_sections(data) + [quality_section(data)]


def report_figures(data: dict[str, Any]) -> list[tuple[str, Figure]]:
    """Every chart of the report, titled with its section, in reading order."""
    return [
        (f"{s.heading} · {title}", figure) for s in report_sections(data) for title, figure, _ in s.charts
    ]


# --- report.html -------------------------------------------------------------------------------------

CSS = (
    f"body{{font-family:{FONT_STACK};margin:24px auto;max-width:1200px;color:#222;padding:0 16px}}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 6px;border-bottom:2px solid #4C78A8;"
    "padding-bottom:4px}h3{font-size:14px;margin:10px 0 2px;color:#444;font-weight:600}"
    ".meta,.note{color:#555;font-size:13px;margin:4px 0}"
    ".partial{background:#fff4e5;border-left:4px solid #e8590c;padding:8px 12px;margin:8px 0}"
    ".grid{display:grid;grid-template-columns:1fr 1fr;"
    "gap:8px 24px}.wide{grid-column:1 / -1}.figures{display:flex;gap:24px;flex-wrap:wrap;margin:12px 0}"
    ".figure{background:#F3F6FA;border-radius:6px;padding:8px 16px}.figure b{display:block;font-size:22px}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;"
    "text-align:left}th{background:#F3F6FA}nav a{margin-right:12px;font-size:13px}"
)


def _html_table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data: dict[str, Any]) -> str:
    """A self-contained HTML report (plotly.js embedded once in the head, no network needed)."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    language: Language = data.get("language", "zh")
    sections = report_sections(data)
    parts, index = [], 0
    for number, section in enumerate(sections):
        charts = []
        for title, figure, wide in section.charts:
            chart = pio.to_html(
                figure,
                include_plotlyjs=False,
                full_html=False,
                div_id=f"chart-{index}",
                config={"displayModeBar": False, "responsive": True},
                validate=False,  # plain figure specs (report_charts.py), written as they are
            )
            index += 1
            charts.append(
                f'<div class="chart{" wide" if wide else ""}"><h3>{html.escape(title)}</h3>{chart}</div>'
            )
        parts.append(
            f'<section id="s{number}"><h2>{html.escape(section.heading)}</h2>'
            + "".join(f'<p class="note">{html.escape(n)}</p>' for n in section.notes)
            + "".join(_html_table(*t) for t in section.tables)
            + (f'<div class="grid">{"".join(charts)}</div>' if charts else "")
            + "</section>"
        )
    nav = "".join(f'<a href="#s{n}">{html.escape(s.heading)}</a>' for n, s in enumerate(sections))
    title = f"{both('客户分群报告', 'Customer segments report', language)} {data['as_of']}"
    figures = [
        (both("客户", "customers", language), f"{data.get('customers', 0):,}"),
        (both("有购买", "with a purchase", language), f"{data.get('purchasers', 0):,}"),
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="meta">run {html.escape(str(data["run_id"]))} · config {html.escape(str(data["config_hash"]))}'
        + (f" · {html.escape(amounts_in(data['currency'], language))}" if data.get("currency") else "")
        + "</p>"
        + (
            f'<p class="partial">{html.escape(partial_note(data["as_of"], data["timezone"], language))}</p>'
            if data.get("partial")
            else ""
        )
        + '<div class="figures">'
        + "".join(f'<div class="figure">{html.escape(k)}<b>{v}</b></div>' for k, v in figures)
        + f"</div><nav>{nav}</nav>"
        + "".join(parts)
        + "</body></html>\n"
    )
