"""report.md: the run summary as Markdown, in the report's language (also the Prefect artifact and the CLI).

zh puts Chinese first and English second, en the other way round. The act stage's tables (audiences,
outcomes, lookalikes, recommendations) are built here once and shown by both report.md and report.html.
"""

from functools import partial
from typing import Any

from tasks.dedupe.report import conflict_text
from tasks.predict.summary import render_markdown as predict_markdown
from tasks.publish.labels import (
    LOOKALIKES,
    METRICS,
    ORDER,
    SCHEMES,
    Language,
    amounts_in,
    both,
    english,
    label,
    partial_note,
)
from tasks.publish.report_notes import NOTHING_YET, listed_note, lookalike_note, recommendation_line
from tasks.publish.segment_names import reference_name, segment_name, segment_names, size_changes


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table; counts with thousands separators (111,359), as the tables that format their own."""
    cell = lambda v: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# --- report.md ---------------------------------------------------------------------------------------


def render_markdown(summary: dict[str, Any], language: Language = "zh") -> str:
    """Markdown report of a run summary (as built by the daily_refresh flow), in the report's language."""
    b = lambda zh, en: both(zh, en, language)  # noqa: E731 - a heading in both languages
    extract = summary["extract"]
    erased = any(s.get("rows_erased") for s in extract)  # a column of its own only when a load dropped some
    filtered = any(s.get("rows_filtered") for s in extract)  # and when a source's where left rows out
    dedupe = summary["dedupe"]
    segments = summary["segments"]
    parts = [
        f"# {b('客户分群', 'Customer segments')} {summary['as_of']}",
        f"Run `{summary['run_id']}` · config `{summary['config_hash']}` · warehouse `{summary['warehouse']}`"
        + (f" · {amounts_in(summary['currency'], language)}" if summary.get("currency") else ""),
        *(
            [f"> **{partial_note(summary['as_of'], summary.get('timezone', ''), language)}**"]
            if summary.get("partial")
            else []
        ),
        f"## {b('数据来源', 'Sources')}",
        f"### {b('本次运行', 'This run')}",
        _table(
            [
                b("来源", "source"),
                b("类型", "kind"),
                b("读取文件", "files read"),
                b("读取行", "rows read"),
                b("入库行", "staged"),
                b("隔离行", "quarantined"),
                b("重复删除", "duplicates dropped"),
                *([b("已删除者的行", "erased people's rows")] if erased else []),
                *([b("条件滤除", "left out by where")] if filtered else []),
                b("状态", "status"),
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
                    *([s.get("rows_erased", 0)] if erased else []),
                    *([s.get("rows_filtered", 0)] if filtered else []),
                    s["status"],
                ]
                for s in extract
            ],
        ),
        *_kept_sources(summary.get("sources_kept"), language),
        f"## {b('客户', 'Customers')}",
        _table(
            [
                b("客户记录", "customer records"),
                b("去重后客户", "customers after dedupe"),
                b("与其他记录合并的记录", "records merged with another"),
                b("最大簇", "largest cluster"),
                b("有购买", "with a purchase"),
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
    parts += _dedupe_notes(dedupe)
    names = segment_names(summary, language)
    parts += [
        f"## {b('RFM 分群', 'RFM segments')}",
        _table(
            [b("分群", "segment"), b("客户数", "customers")],
            [[segment_name(names, "rfm", name), count] for name, count in segments["rfm_segments"].items()],
        ),
        f"## {b('聚类客群', 'Clusters')}",
        # the model's table names and counts the clusters too, with their centres; without it, the counts
        *(
            _cluster_parts(segments.get("cluster_model") or {}, language)
            or [
                _table(
                    [b("客群", "cluster"), b("客户数", "customers")],
                    [[segment_name(names, "cluster", k), v] for k, v in segments["clusters"].items()],
                )
            ]
        ),
        *_scheme_parts(summary.get("scheme_sizes") or [], language),
    ]
    if summary.get("changes"):
        parts += [
            f"## {b('分群变化', 'Membership changes')}",
            _table(
                [b("方案", "scheme"), b("进入", "entered"), b("离开", "exited")],
                [
                    [label(*SCHEMES.get(k, (k, k)), language), v["entered"], v["exited"]]
                    for k, v in summary["changes"].items()
                ],
            ),
        ]
    parts += _stability_parts(segments.get("stability") or {}, language, names)
    if summary.get("predict"):
        parts.append(predict_markdown(summary["predict"], language).rstrip("\n"))
    parts += _act_markdown(summary.get("act") or {}, language, names)
    if "publish" in summary:
        parts += [
            f"## {b('输出', 'Outputs')}",
            f"{b('导出', 'Exports')}: `{summary['publish']['export_dir']}`",
        ]
        if "report_html" in summary["publish"]:
            parts.append(f"{b('HTML 报告', 'HTML report')}: `{summary['publish']['report_html']}`")
    return "\n\n".join(parts) + "\n"


def _kept_sources(kept: list[dict[str, Any]] | None, language: Language) -> list[str]:
    """The sources table over every load the warehouse keeps: the same for a rerun that read nothing new."""
    if kept is None:
        return []
    b = lambda zh, en: both(zh, en, language)  # noqa: E731
    return [
        f"### {b('仓库内（全部已加载的文件）', 'In the warehouse (every file loaded)')}",
        _table(
            [
                b("来源", "source"),
                b("已加载文件（数据库：批次）", "files loaded (database: batches)"),
                b("入库行", "rows staged"),
                b("其中无归属", "of them unattributed"),
                b("隔离行", "quarantined"),
                b("重复删除", "duplicates dropped"),
            ],
            [
                [
                    s["source"],
                    s["files"],
                    s["rows_staged"],
                    s["rows_unattributed"],
                    s["rows_quarantined"],
                    s["duplicates_dropped"],
                ]
                for s in kept
            ],
        ),
    ]


def _dedupe_notes(dedupe: dict[str, Any]) -> list[str]:
    """What dedupe did not do blindly: overshared keys, big clusters, unreadable values, chosen blocking."""
    parts: list[str] = []
    if dedupe["overshared_keys"]:
        parts += [
            "Keys shared by too many records (not used to match):",
            *(f"- {k}" for k in dedupe["overshared_keys"]),
        ]
    if dedupe.get("two_people_keys"):
        parts.append(
            f"Keys that records of two people hold, a household's phone or e-mail (not used to match): "
            f"{dedupe['two_people_keys']}"
        )
    if dedupe.get("suspicious_clusters"):
        parts += [
            f"Clusters above max_cluster_size (not merged blindly): {len(dedupe['suspicious_clusters'])}",
            *(f"- {c}" for c in dedupe["suspicious_clusters"]),
        ]
    if dedupe.get("identity_conflicts"):
        parts += [
            "Customers whose records disagree on what one person has only one of:",
            *(f"- {conflict_text(c)}" for c in dedupe["identity_conflicts"]),
        ]
    if dedupe.get("unreadable_values"):
        parts += [
            "Match-column values the matcher could not read as their kind (compared as missing):",
            *(f"- {name}: {count} records" for name, count in dedupe["unreadable_values"].items()),
        ]
    if dedupe.get("unusable_values"):
        parts += [
            "Values given but unusable (invalid, implausible or a placeholder), left out of matching and of the "
            "golden record; `core.customer_records` lists them (`phone is not null and phone_norm is null`):",
            *(f"- {name}: {count:,} records" for name, count in dedupe["unusable_values"].items()),
        ]
    if dedupe.get("unused_comparisons"):
        parts += [
            "Configured comparisons without a value in any record (they add nothing): "
            + ", ".join(dedupe["unused_comparisons"])
        ]
    if dedupe.get("blocking"):
        chosen = [b for b in dedupe["blocking"] if b["chosen"]]
        pairs = f"{dedupe.get('candidate_pairs', 0):,} distinct candidate pairs compared"
        if dedupe.get("matcher_mode") == "incremental":  # only the records new or changed since the last run
            pairs += (
                f", of the {dedupe.get('changed_records', 0):,} records new or changed since the last run"
            )
        parts += [
            f"Blocking rules chosen from the data ({len(chosen)} of {len(dedupe['blocking'])} candidates; {pairs}):",
            _table(["rule", "pairs counted"], [[b["rule"], b["pairs"]] for b in chosen]),
        ]
    return parts


def _scheme_parts(sizes: list[dict[str, Any]], language: Language) -> list[str]:
    """The customers of each segment of the other schemes (published/scheme_sizes.sql): value tiers, lifecycle
    stages, the Chinese 8-class RFM, rule segments (a customer in several counted in each), churn risk tiers."""
    if not sizes:
        return []
    rows = []
    for scheme in ("tier", "lifecycle", "rfm_cn", "rules", "risk"):
        order = ORDER.get(scheme, ())
        segments = sorted(
            (s for s in sizes if s["scheme"] == scheme),
            key=lambda s: order.index(s["segment"]) if s["segment"] in order else len(order),
        )  # a scheme without an order of meaning stays by size, as the model lists it
        rows += [
            [
                label(*SCHEMES[scheme], language),
                label(s["segment_zh"], english(scheme, s["segment"], s["segment"]), language),
                s["customers"],
            ]
            for s in segments
        ]
    heading = both("其他分群", "Other segment schemes", language)
    header = [
        both("方案", "scheme", language),
        both("分群", "segment", language),
        both("客户数", "customers", language),
    ]
    return [f"## {heading}", _table(header, rows)]


def _cluster_parts(model: dict[str, Any], language: Language) -> list[str]:
    """Cluster names and profiles, how k was chosen, and the decision tree that explains them."""
    if not model.get("clusters"):
        return []
    b = lambda zh, en: both(zh, en, language)  # noqa: E731
    scores = ", ".join(f"k={k}: {v}" for k, v in model["k_scores"].items())
    # a business without sessions (a shop's orders only): a column of zeros says nothing
    sessions = any(c["sessions_90d"] for c in model["clusters"])
    return [
        f"k = {model['k']} ({model['k_method']}{'; silhouette by k: ' + scores if scores else ''}), "
        f"silhouette {model['silhouette']}",
        _table(
            [
                "id",
                b("名称", "name"),
                b("客户数", "customers"),
                b("新", "new"),
                b("未活跃天数（中心）", "inactive days (centre)"),
                b("订单（中心）", "orders (centre)"),
                b("消费（中心）", "spend (centre)"),
                *([b("90天会话（中心）", "sessions 90d (centre)")] if sessions else []),
            ],
            [
                [
                    c["cluster_id"],
                    label(c["name_zh"], c["name_en"], language),
                    c["size"],
                    b("新", "new") if c["new"] else "",
                    c["inactive_days"],
                    c["frequency"],
                    c["monetary"],
                    *([c["sessions_90d"]] if sessions else []),
                ]
                for c in model["clusters"]
            ],
        ),
        b(
            "中心：各特征取 log1p 后的均值换回原单位，即簇内的典型客户；偏态特征的中心低于 HTML 报告中的成员平均值。",
            "Centre: the mean of each feature on its log1p scale, turned back into its unit: a typical member. "
            "For skewed features it is below the members' averages that the HTML report's cluster means show.",
        ),
        f"### {b('决策树（深度 3）', 'Decision tree (depth 3)')}, fidelity {model['fidelity']:.1%}",
        "```\n" + model["tree_rules"].rstrip() + "\n```",
    ]


def _stability_parts(stability: dict[str, Any], language: Language, names: dict[str, str]) -> list[str]:
    """Stability against the previous published day: ARI and changed customers per scheme (segments by name)."""
    b = lambda zh, en: both(zh, en, language)  # noqa: E731
    if not stability.get("previous_as_of"):
        return [
            f"## {b('稳定性', 'Stability')}",
            b("没有更早的发布日可比较。", "No earlier published day to compare with."),
        ]
    return [
        f"## {b('稳定性', 'Stability')} {stability['previous_as_of']}",
        _table(
            [
                b("方案", "scheme"),
                "adjusted Rand index",
                b("两日均有", "customers in both days"),
                b("换群", "changed segment"),
                b("规模变化", "size changes"),
            ],
            [
                [
                    label(*SCHEMES.get(s["scheme"], (s["scheme"], s["scheme"])), language),
                    s["ari"],
                    s["customers_compared"],
                    s["changed"],
                    size_changes(s["size_changes"], partial(segment_name, names, s["scheme"])),
                ]
                for s in stability["schemes"]
            ],
        ),
    ]


# --- the act stage's results (render only what is there) ---------------------------------------------


def metric_text(name: str, value: float | None) -> str:
    """A metric value as read: rates in percent, money with two decimals."""
    if value is None:
        return "–"
    return f"{value:,.2f}" if name == "revenue_per_member" else f"{value:.1%}"


def difference_text(name: str, value: float | None) -> str:
    """A difference of a metric: percentage points for rates."""
    if value is None:
        return "–"
    return f"{value:+,.2f}" if name == "revenue_per_member" else f"{value * 100:+.1f} pp"


def outcome_verdict(outcome: dict[str, Any], language: Language) -> str:
    """Whether the 95% interval of the difference excludes 0, in words."""
    low, high = outcome.get("ci_low"), outcome.get("ci_high")
    if low is None or high is None:
        return both("无置信区间", "no interval", language)
    if low > 0:
        return both("区间不含 0：处理组更高", "the interval excludes 0: treated is higher", language)
    if high < 0:
        return both("区间不含 0：处理组更低", "the interval excludes 0: treated is lower", language)
    return both("区间包含 0：未见差异", "the interval includes 0: no difference shown", language)


def act_tables(
    act: dict[str, Any], language: Language, names: dict[str, str]
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The act stage's tables (headers, rows) by section key; a section without rows is left out. Segments are
    shown by name (names: segment_names)."""
    b = lambda zh, en: both(zh, en, language)  # noqa: E731
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    if act.get("audiences"):
        tables["audiences"] = (
            [b("受众", "audience"), b("分群", "segment"), b("成员", "members"), b("对照组", "holdout")]
            + [b("名单", "listed"), b("进入", "entered"), b("离开", "exited")],
            [
                [
                    label(a.get("label_zh"), a.get("label_en"), language),
                    reference_name(names, a.get("segment", ""), language),
                ]
                + [f"{a.get(k) or 0:,}" for k in ("members", "holdout", "listed", "entered", "exited")]
                for a in act["audiences"]
            ],
        )
    if act.get("outcomes"):
        tables["outcomes"] = (
            [b("受众", "audience"), b("指标", "metric"), b("窗口", "window")]
            + [b("处理组", "treated"), b("对照组", "holdout"), b("差异", "difference")]
            + [b("95% 区间", "95% interval"), b("结论", "verdict")],
            [
                [
                    label(o.get("label_zh"), o.get("label_en"), language),
                    label(*METRICS.get(o["metric"], (o["metric"], o["metric"])), language),
                    f"{o.get('entries_from')} – {o.get('entries_to')} (+{o.get('window_days')}d)",
                    f"{metric_text(o['metric'], o.get('treated_value'))} (n={o.get('treated') or 0:,})",
                    f"{metric_text(o['metric'], o.get('holdout_value'))} (n={o.get('holdout') or 0:,})",
                    difference_text(o["metric"], o.get("difference")),
                    f"[{difference_text(o['metric'], o.get('ci_low'))}, {difference_text(o['metric'], o.get('ci_high'))}]",
                    outcome_verdict(o, language),
                ]
                for o in act["outcomes"]
            ],
        )
    if act.get("lookalikes"):
        tables["lookalikes"] = (
            [
                b("相似人群", "lookalike"),
                b("种子", "seed"),
                b("种子人数", "seed size"),
                b("受众人数", "audience size"),
            ]
            + [b("模型前列命中", "found in top"), b("随机", "random"), b("规则", "rule")]
            + [b("前列比例", "top share"), b("说明", "reason")],
            [
                [
                    label(x.get("label_zh"), x.get("label_en"), language) or x.get("name", ""),
                    reference_name(names, x.get("seed", ""), language),
                    f"{x.get('seed_size') or 0:,}",
                    f"{x.get('audience') or 0:,}",
                ]
                + [
                    metric_text("share", x.get(k))
                    for k in ("found_share", "random_share", "rule_share", "top_share")
                ]
                + [x.get("reason") or lookalike_note(x, language)]
                for x in act["lookalikes"]
            ],
        )
    recommendations = act.get("recommendations") or {}
    if recommendations.get("evaluation"):
        tables["recommendations"] = (
            [
                b("模型", "model"),
                "k",
                b("用户", "users"),
                "precision",
                "recall",
                "NDCG",
                b("覆盖率", "coverage"),
            ],
            [
                [e["model"], e["k"], f"{e.get('users') or 0:,}"]
                + [f"{e.get(k) or 0:.3f}" for k in ("precision", "recall", "ndcg")]
                + [metric_text("share", e.get("coverage"))]
                for e in recommendations["evaluation"]
            ],
        )
    return tables


ACT_HEADINGS: dict[str, tuple[str, str]] = {
    "audiences": ("营销受众与对照组", "Audiences and holdouts"),
    "outcomes": ("活动效果", "Campaign outcomes"),
    "lookalikes": LOOKALIKES,
    "recommendations": ("个性化推荐", "Recommendations"),
}


def _act_markdown(act: dict[str, Any], language: Language, names: dict[str, str]) -> list[str]:
    """The act stage's sections of report.md; each says there is nothing yet when it has no rows."""
    if not act:
        return []
    tables = act_tables(act, language, names)
    parts: list[str] = []
    for key, (zh, en) in ACT_HEADINGS.items():
        parts.append(f"## {both(zh, en, language)}")
        if key == "recommendations":
            parts.append(recommendation_line(act.get("recommendations") or {}, language))
        if key in tables:
            parts.append(_table(*tables[key]))
            if key == "audiences" and (note := listed_note(act["audiences"], language)):
                parts.append(note)
        elif key != "recommendations":
            parts.append(both(*NOTHING_YET, language))
    return parts


# --- the HTML report's data --------------------------------------------------------------------------
