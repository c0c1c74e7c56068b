"""The act stage's summary as Markdown: the Prefect artifact `act-audiences` and the CLI read it."""

from datetime import date
from typing import Any

METRIC_LABELS = {
    "conversion": ("转化率", "conversion"),
    "revenue_per_member": ("人均收入", "revenue per member"),
    "retention": ("留存率", "retention"),
}


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def format_value(metric: str, value: float | None) -> str:
    """A metric's value as people read it: a rate in percent, revenue with two decimals."""
    if value is None:
        return "–"
    if metric == "revenue_per_member":
        return f"{value:,.2f}"
    return f"{100 * value:.1f}%"


def format_difference(metric: str, value: float | None) -> str:
    """A difference of two metric values: percentage points for rates, signed amounts for revenue."""
    if value is None:
        return "–"
    if metric == "revenue_per_member":
        return f"{value:+,.2f}"
    return f"{100 * value:+.1f} pt"


def outcome_verdict(row: dict[str, Any]) -> str:
    """In words: whether the 95% interval of treated minus holdout excludes 0."""
    low, high = row.get("ci_low"), row.get("ci_high")
    if low is None or high is None:
        return "holdout too small to tell / 对照组过小"
    if low > 0:
        return "treated higher / 触达组更高"
    if high < 0:
        return "treated lower / 触达组更低"
    return "no clear difference / 无显著差异"


def outcome_rows(outcomes: list[dict[str, Any]]) -> list[list[Any]]:
    """Table rows of campaign outcomes: one per audience, window and metric."""
    rows = []
    for row in outcomes:
        metric = row["metric"]
        interval = (
            f"[{format_difference(metric, row['ci_low'])}, {format_difference(metric, row['ci_high'])}]"
            if row.get("ci_low") is not None
            else "–"
        )
        rows.append(
            [
                f"{row.get('label_zh') or row['audience']} ({row['audience']})",
                f"{row['window_days']}d",
                " / ".join(METRIC_LABELS.get(metric, (metric, metric))),
                f"{row['entries_from']} – {row['entries_to']}",
                row["treated"],
                row["holdout"],
                format_value(metric, row["treated_value"]),
                format_value(metric, row["holdout_value"]),
                format_difference(metric, row["difference"]),
                interval,
                outcome_verdict(row),
            ]
        )
    return rows


def render_markdown(summary: dict[str, Any], as_of: date) -> str:
    """Audiences, campaign outcomes, lookalikes and recommendations of one act run, as Markdown."""
    parts = [f"# 受众与活动效果 Audiences and campaign outcomes, {as_of}"]
    parts += [
        "## 受众 Audiences",
        _table(
            ["audience", "segment", "members", "holdout", "entered", "exited"],
            [
                [
                    f"{a.get('label_zh') or a['audience']} ({a['audience']})",
                    a["segment"],
                    a["members"],
                    a["holdout"],
                    a["entered"],
                    a["exited"],
                ]
                for a in summary.get("audiences", [])
            ],
        ),
    ]
    outcomes = summary.get("outcomes") or []
    parts.append("## 活动效果 Campaign outcomes (treated − holdout, 95% interval)")
    if outcomes:
        parts.append(
            _table(
                [
                    "audience",
                    "window",
                    "metric",
                    "entries",
                    "treated",
                    "holdout",
                    "treated value",
                    "holdout value",
                    "difference",
                    "95% interval",
                    "reading",
                ],
                outcome_rows(outcomes),
            )
        )
    else:
        parts.append("No audience entry has a finished outcome window yet. 暂无已结束观察期的受众进入记录。")
    lookalikes = summary.get("lookalikes") or []
    if lookalikes:
        parts += [
            "## 相似人群 Lookalikes",
            _table(
                [
                    "lookalike",
                    "seed",
                    "seed size",
                    "audience",
                    "top share",
                    "found",
                    "random",
                    "rule",
                    "evaluated on",
                    "note",
                ],
                [
                    [
                        f"{lk.get('label_zh') or lk['name']} ({lk['name']})",
                        lk.get("seed"),
                        lk.get("seed_size"),
                        lk.get("audience"),
                        _share(lk.get("top_share")),
                        _share(lk.get("found_share")),
                        _share(lk.get("random_share")),
                        _share(lk.get("rule_share")),
                        _evaluated(lk),
                        lk.get("reason") or "",
                    ]
                    for lk in lookalikes
                ],
            ),
        ]
    recommendations = summary.get("recommendations") or {}
    parts.append("## 推荐 Recommendations")
    if recommendations.get("evaluation"):
        parts.append(
            _table(
                ["model", "k", "users", "precision@k", "recall@k", "nDCG@k", "coverage"],
                [
                    [
                        e["model"],
                        e["k"],
                        e["users"],
                        _number(e["precision"]),
                        _number(e["recall"]),
                        _number(e["ndcg"]),
                        _share(e["coverage"]),
                    ]
                    for e in recommendations["evaluation"]
                ],
            )
        )
    if recommendations.get("evaluated_on"):
        parts.append(f"评估日 Evaluated on: {_evaluated(recommendations)}")
    if recommendations.get("reason"):
        parts.append(str(recommendations["reason"]))
    return "\n\n".join(parts) + "\n"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _evaluated(model: dict[str, Any]) -> str:
    """The fit day whose evaluation a model carries, and why it was refitted that day (if it was today)."""
    day = model.get("evaluated_on")
    if day is None:
        return "–"
    refit = model.get("refit")
    return f"{day} (refitted: {refit})" if refit else f"{day} (stored model)"
