"""The run summary: one plain structure, rendered as Markdown for the Prefect artifact, report.md and the CLI."""

from datetime import date
from typing import TYPE_CHECKING, Any

from tasks.predict.summary import render_markdown as predict_markdown
from tasks.publish.risk_charts import risk_data, risk_figures

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from tasks.shared.warehouse import Warehouse


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(summary: dict[str, Any]) -> str:
    """Markdown report of a run summary (as built by the daily_refresh flow)."""
    extract = summary["extract"]
    dedupe = summary["dedupe"]
    segments = summary["segments"]
    parts = [
        f"# Customer segments as of {summary['as_of']}",
        f"Run `{summary['run_id']}` · config `{summary['config_hash']}` · warehouse `{summary['warehouse']}`",
        "## Sources",
        _table(
            [
                "source",
                "kind",
                "files read",
                "rows read",
                "staged",
                "quarantined",
                "duplicates dropped",
                "status",
            ],
            [
                [
                    s["source"],
                    s["kind"],
                    f"{s['files_loaded']}/{s['files']}",
                    s["rows_read"],
                    s["rows_staged"],
                    s["rows_quarantined"],
                    s["duplicates_dropped"],
                    s["status"],
                ]
                for s in extract
            ],
        ),
        "## Customers",
        _table(
            [
                "customer records",
                "customers after dedupe",
                "records merged",
                "largest cluster",
                "with a purchase",
            ],
            [
                [
                    dedupe["records"],
                    dedupe["customers"],
                    dedupe["merged_records"],
                    dedupe["largest_cluster"],
                    segments["scored"],
                ]
            ],
        ),
    ]
    if dedupe["overshared_keys"]:
        parts += [
            "Keys shared by too many records (not used to match):",
            *(f"- {k}" for k in dedupe["overshared_keys"]),
        ]
    if dedupe.get("suspicious_clusters"):
        parts += [
            f"Clusters above max_cluster_size (not merged blindly): {len(dedupe['suspicious_clusters'])}",
            *(f"- {c}" for c in dedupe["suspicious_clusters"]),
        ]
    if dedupe.get("unreadable_values"):
        parts += [
            "Match-column values the matcher could not read as their kind (compared as missing):",
            *(f"- {name}: {count} records" for name, count in dedupe["unreadable_values"].items()),
        ]
    if dedupe.get("unused_comparisons"):
        parts += [
            "Configured comparisons without a value in any record (they add nothing): "
            + ", ".join(dedupe["unused_comparisons"])
        ]
    if dedupe.get("blocking"):
        chosen = [b for b in dedupe["blocking"] if b["chosen"]]
        parts += [
            f"Blocking rules chosen from the data ({len(chosen)} of {len(dedupe['blocking'])} candidates; "
            f"{dedupe.get('candidate_pairs', 0):,} distinct candidate pairs compared):",
            _table(["rule", "pairs counted"], [[b["rule"], b["pairs"]] for b in chosen]),
        ]
    labels = summary.get("segment_labels", {})
    parts += [
        "## RFM segments",
        _table(
            ["segment", "中文", "customers"],
            [[name, labels.get(name, ""), count] for name, count in segments["rfm_segments"].items()],
        ),
        "## Clusters",
        _table(["cluster", "customers"], [[k, v] for k, v in segments["clusters"].items()]),
    ]
    if summary.get("changes"):
        parts += [
            "## Membership changes",
            _table(
                ["scheme", "entered", "exited"],
                [[k, v["entered"], v["exited"]] for k, v in summary["changes"].items()],
            ),
        ]
    parts += _cluster_parts(segments.get("cluster_model") or {}) + _stability_parts(
        segments.get("stability") or {}
    )
    if summary.get("predict"):
        parts.append(predict_markdown(summary["predict"]).rstrip("\n"))
    if "publish" in summary:
        parts += ["## Outputs", f"Exports: `{summary['publish']['export_dir']}`"]
        if "report_html" in summary["publish"]:
            parts.append(f"HTML report: `{summary['publish']['report_html']}`")
    return "\n\n".join(parts) + "\n"


# --- the HTML report: one self-contained file per run, charts drawn by an embedded plotly.js ---------


def report_data(wh: "Warehouse", as_of: date, summary: dict[str, Any]) -> dict[str, Any]:
    """Everything the HTML report draws, read from the published tables (plain data, testable)."""
    params = {"as_of": as_of}
    return {
        "as_of": str(as_of),
        "run_id": summary.get("run_id", ""),
        "config_hash": summary.get("config_hash", ""),
        "sizes": wh.rows(wh.model_sql("published/segment_sizes"), params),
        "trend": wh.rows(wh.model_sql("published/segment_size_trend"), params),
        "heatmap": wh.rows(wh.model_sql("published/rf_score_grid"), params),
        "clusters": wh.rows(wh.model_sql("published/cluster_profiles"), params),
        "changes": wh.rows(wh.model_sql("published/segment_change_counts"), params)
        if wh.table_exists("published.segment_changes")
        else [],
        "quality": quality_counts(wh, summary),
        "merged_records": summary.get("dedupe", {}).get("merged_records", 0),
        **risk_data(wh, as_of, summary),
    }


def quality_counts(wh: "Warehouse", summary: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(source, quarantined rows, duplicate rows dropped) over everything loaded, from the audit tables."""
    sources = [s["source"] for s in summary.get("extract", [])]
    if not (wh.table_exists("audit.quarantine") and wh.table_exists("audit.duplicates")):
        return [
            (s["source"], s["rows_quarantined"], s["duplicates_dropped"]) for s in summary.get("extract", [])
        ]
    quarantined = dict(wh.rows("select source, count(*) from audit.quarantine group by all"))
    duplicates = dict(wh.rows("select source, count(*) from audit.duplicates group by all"))
    names = sources or sorted(set(quarantined) | set(duplicates))
    return [(name, quarantined.get(name, 0), duplicates.get(name, 0)) for name in names]


def report_figures(data: dict[str, Any]) -> list[tuple[str, "go.Figure"]]:
    """The report's charts, titled, in reading order."""
    import plotly.graph_objects as go

    figures = []
    sizes = data["sizes"]
    figures.append(
        (
            "Segment sizes (RFM)",
            go.Figure(
                go.Bar(
                    x=[f"{name} {zh or ''}".strip() for name, zh, _ in sizes],
                    y=[n for *_, n in sizes],
                    marker_color="#4C78A8",
                )
            ),
        )
    )
    trend = go.Figure()
    for segment in sorted({s for _, s, _ in data["trend"]}):
        points = [(str(day), n) for day, s, n in data["trend"] if s == segment]
        trend.add_trace(
            go.Scatter(x=[d for d, _ in points], y=[n for _, n in points], mode="lines+markers", name=segment)
        )
    trend.update_xaxes(type="category")
    figures.append(("Segment sizes over published days", trend))
    grid = [[0] * 5 for _ in range(5)]
    for r, f, n in data["heatmap"]:
        grid[r - 1][f - 1] = n
    figures.append(
        (
            "Customers by R score × F score",
            go.Figure(
                go.Heatmap(
                    z=grid,
                    x=[f"F{i}" for i in range(1, 6)],
                    y=[f"R{i}" for i in range(1, 6)],
                    colorscale="Blues",
                ),
                layout={"xaxis_title": "frequency score", "yaxis_title": "recency score"},
            ),
        )
    )
    profile = go.Figure()
    measures = ("recency_days", "frequency", "monetary", "sessions_90d")
    for cluster_id, customers, *means in data["clusters"]:
        peak = [
            max(abs(float(row[i + 2] or 0)) for row in data["clusters"]) or 1 for i in range(len(measures))
        ]
        profile.add_trace(
            go.Bar(
                x=list(measures),
                y=[float(m or 0) / p for m, p in zip(means, peak, strict=True)],
                name=f"cluster {cluster_id} ({customers})",
                customdata=[float(m or 0) for m in means],
                hovertemplate="%{x}: %{customdata:.1f}",
            )
        )
    profile.update_layout(barmode="group", yaxis_title="mean, relative to the highest cluster")
    figures.append(("Cluster profiles", profile))
    changes = data["changes"]
    schemes = sorted({s for s, _, _ in changes})
    moved = go.Figure()
    for change, colour in (("entered", "#54A24B"), ("exited", "#E45756")):
        counts = {s: n for s, c, n in changes if c == change}
        moved.add_trace(
            go.Bar(x=schemes, y=[counts.get(s, 0) for s in schemes], name=change, marker_color=colour)
        )
    moved.update_layout(barmode="group")
    figures.append(("Segment membership changes since the previous published day", moved))
    figures += risk_figures(data)
    quality = go.Figure()
    sources = [s for s, _, _ in data["quality"]]
    quality.add_trace(go.Bar(x=sources, y=[q for _, q, _ in data["quality"]], name="quarantined rows"))
    quality.add_trace(go.Bar(x=sources, y=[d for _, _, d in data["quality"]], name="duplicate rows dropped"))
    quality.update_layout(barmode="group")
    figures.append(
        (
            f"Data quality: rows kept out of staging, all loads (customer records merged by dedupe: "
            f"{data['merged_records']})",
            quality,
        )
    )
    return figures


def render_html(data: dict[str, Any]) -> str:
    """A self-contained HTML report (plotly.js embedded once, no network needed)."""
    import html

    import plotly.io as pio

    sections = []
    for index, (title, figure) in enumerate(report_figures(data)):
        figure.update_layout(
            height=420,
            margin={"t": 30, "l": 60, "r": 20, "b": 60},
            template="plotly_white",
            font_family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif",  # Chinese labels
        )
        chart = pio.to_html(
            figure,
            include_plotlyjs=index == 0,
            full_html=False,
            div_id=f"chart-{index}",
            config={"displayModeBar": False},
        )
        sections.append(f'<section class="chart"><h2>{html.escape(title)}</h2>{chart}</section>')
    title = f"Customer segments as of {data['as_of']}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:24px;max-width:1100px}"
        "h2{font-size:17px;margin:24px 0 4px}.meta{color:#555}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="meta">run {html.escape(str(data["run_id"]))} · config {html.escape(str(data["config_hash"]))}</p>'
        + "".join(sections)
        + "</body></html>\n"
    )


def _cluster_parts(model: dict[str, Any]) -> list[str]:
    """Cluster names and profiles, how k was chosen, and the decision tree that explains them."""
    if not model.get("clusters"):
        return []
    scores = ", ".join(f"k={k}: {v}" for k, v in model["k_scores"].items())
    return [
        f"k = {model['k']} ({model['k_method']}{'; silhouette by k: ' + scores if scores else ''}), "
        f"silhouette {model['silhouette']}",
        _table(
            ["id", "name", "名称", "customers", "new", "inactive days", "orders", "spend", "sessions 90d"],
            [
                [
                    c["cluster_id"],
                    c["name_en"],
                    c["name_zh"],
                    c["size"],
                    "new" if c["new"] else "",
                    c["inactive_days"],
                    c["frequency"],
                    c["monetary"],
                    c["sessions_90d"],
                ]
                for c in model["clusters"]
            ],
        ),
        f"### Decision tree (depth 3), fidelity {model['fidelity']:.1%} of customers",
        "```\n" + model["tree_rules"].rstrip() + "\n```",
    ]


def _stability_parts(stability: dict[str, Any]) -> list[str]:
    """Stability against the previous published day: ARI and changed customers per scheme."""
    if not stability.get("previous_as_of"):
        return ["## Stability", "No earlier published day to compare with."]
    return [
        f"## Stability since {stability['previous_as_of']}",
        _table(
            ["scheme", "adjusted Rand index", "customers in both days", "changed segment", "size changes"],
            [
                [
                    s["scheme"],
                    s["ari"],
                    s["customers_compared"],
                    s["changed"],
                    ", ".join(f"{c['segment']} {c['change']:+d}" for c in s["size_changes"][:6]) or "none",
                ]
                for s in stability["schemes"]
            ],
        ),
    ]
