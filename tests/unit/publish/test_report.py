"""The report: report.md in both languages, every scheme charted with labelled bars, trends, the act sections."""

from datetime import date
from typing import Any

import pytest
from plotly.offline import get_plotlyjs

from tasks.predict.summary import render_markdown as predict_markdown
from tasks.publish.labels import FONT_STACK
from tasks.publish.report import render_html, report_figures, report_sections
from tasks.publish.report_charts import NO_PURCHASE_COLOUR, palette
from tasks.publish.report_markdown import render_markdown
from tests.unit.predict.test_summary import PREDICT

# a run summary as an older version wrote it: no predict stage, no act stage
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
    "segments": {"scored": 6, "rfm_segments": {"Champions": 6, "No Purchase": 2}, "clusters": {"0": 8}},
    "publish": {"export_dir": "/data/exports/2026-11-30"},
}
CLUSTER_MODEL = {
    "k": 1,
    "k_method": "fixed",
    "k_scores": {},
    "silhouette": None,
    "fidelity": 1.0,
    "tree_rules": "|--- class: 0 typical customers\n",
    "clusters": [
        {
            "cluster_id": 0,
            "name_en": "typical customers",
            "name_zh": "普通客户",
            "size": 8,
            "new": False,
            "inactive_days": 3.0,
            "frequency": 2.0,
            "monetary": 50.0,
            "sessions_90d": 4.0,
        }
    ],
}

ACT: dict[str, Any] = {
    "audiences": [
        {
            "audience": "winback",
            "label_zh": "挽回沉睡客户",
            "label_en": "Win back sleepers",
            "segment": "lifecycle:sleeping",
            "members": 900,
            "holdout": 100,
            "listed": 880,
            "entered": 30,
            "exited": 12,
        }
    ],
    "outcomes": [
        {
            "audience": "winback",
            "label_zh": "挽回沉睡客户",
            "label_en": "Win back sleepers",
            "window_days": 14,
            "entries_from": "2026-11-01",
            "entries_to": "2026-11-15",
            "treated": 800,
            "holdout": 90,
            "metric": "conversion",
            "treated_value": 0.12,
            "holdout_value": 0.05,
            "difference": 0.07,
            "ci_low": 0.02,
            "ci_high": 0.12,
        },
        {
            "audience": "winback",
            "label_zh": "挽回沉睡客户",
            "label_en": "Win back sleepers",
            "window_days": 14,
            "entries_from": "2026-11-01",
            "entries_to": "2026-11-15",
            "treated": 800,
            "holdout": 90,
            "metric": "revenue_per_member",
            "treated_value": 10.5,
            "holdout_value": 9.0,
            "difference": 1.5,
            "ci_low": -2.0,
            "ci_high": 5.0,
        },
    ],
    "lookalikes": [
        {
            "name": "like_whales",
            "label_zh": "类大R",
            "label_en": "Like whales",
            "seed": "tier:high",
            "seed_size": 200,
            "audience": 1800,
            "found_share": 0.4,
            "random_share": 0.1,
            "rule_share": 0.25,
            "top_share": 0.1,
            "reason": None,
        }
    ],
    "recommendations": {
        "customers": 5000,
        "by_source": {"item_similarity": 4000, "popular": 1000},
        "coverage": 0.5,
        "evaluation": [
            {
                "model": "item_similarity",
                "k": 5,
                "users": 300,
                "precision": 0.2,
                "recall": 0.3,
                "ndcg": 0.25,
                "coverage": 0.6,
            },
            {
                "model": "popular",
                "k": 5,
                "users": 300,
                "precision": 0.1,
                "recall": 0.15,
                "ndcg": 0.12,
                "coverage": 0.05,
            },
        ],
        "reason": None,
    },
}

DAY1, DAY2 = date(2026, 11, 29), date(2026, 11, 30)


def seg(
    day: date, scheme: str, segment: str, zh: str | None, en: str | None, n: int, np: bool = False
) -> tuple:
    """A row of sql/published/segment_size_trend.sql."""
    return (day, scheme, segment, zh, en, np, n)


# report_data of a day with predictions: the rows of the published/ models (see the model tests)
DATA: dict[str, Any] = {
    "language": "zh",
    "as_of": "2026-11-30",
    "run_id": "run-1",
    "config_hash": "abc",
    "customers": 5,
    "purchasers": 4,
    "segments": [
        seg(DAY1, "rfm", "Champions", "冠军客户", "Champions", 1),
        seg(DAY1, "rfm", "No Purchase", "未购买客户", "No Purchase", 4, True),
        seg(DAY2, "rfm", "Champions", "冠军客户", "Champions", 2),
        seg(DAY2, "rfm", "Lost", "已流失客户", "Lost", 2),
        seg(DAY2, "rfm", "No Purchase", "未购买客户", "No Purchase", 1, True),
        seg(DAY2, "tier", "none", "未消费", "none", 1, True),
        seg(DAY2, "tier", "low", "低价值", "low", 2),
        seg(DAY2, "tier", "high", "高价值", "high", 2),
        seg(DAY2, "rules", "high_frequency_players", "高频玩家", "high_frequency_players", 3),
        seg(DAY2, "rules", "high_intent_not_paying", "高意向未付费", "high_intent_not_paying", 2),
        seg(DAY2, "cluster", "0", "高消费近期活跃客户", "high-spending recently active customers", 3),
        seg(DAY2, "cluster", "1", "未付费客户", "non-paying customers", 2),
        seg(DAY2, "risk", "high", "高", "high", 3),
        seg(DAY2, "risk", "low", "低", "low", 1),
    ],
    "heatmap": [(5, 5, 2)],
    "clusters": [
        (0, "高消费近期活跃客户", "high-spending recently active customers", 3, 3.0, 4.0, 520.0, 9.0, 3)
    ],
    "changes": [("rfm", "entered", 2), ("rfm", "exited", 1)],
    "segment_changes": [
        ("cluster", "1", "entered", 2, DAY1),
        ("rfm", "Champions", "entered", 1, DAY1),
        ("rfm", "Lost", "entered", 2, DAY1),
        ("rfm", "No Purchase", "exited", 3, DAY1),
    ],
    "quality": [("crm", 1, 0)],
    "merged_records": 2,
    "act": {},
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

SIZE, MOVES, TREND = (
    "今日规模（人数与占全部客户比例） size today (customers, share of all)",
    "进入与离开（对比 2026-11-29） entered and exited since 2026-11-29",
    ("各发布日规模 size on each published day"),
)
TREND_WITHOUT = (
    "各发布日规模（不含未购买客户） size on each published day (without customers who never bought)"
)
CHARTS = [
    f"RFM 分群 RFM segments · {SIZE}",
    f"RFM 分群 RFM segments · {MOVES}",
    f"RFM 分群 RFM segments · {TREND_WITHOUT}",
    f"付费等级 Value tiers · {SIZE}",
    f"付费等级 Value tiers · {MOVES}",
    f"付费等级 Value tiers · {TREND_WITHOUT}",
    f"规则分群 Rule segments · {SIZE}",
    f"规则分群 Rule segments · {MOVES}",
    f"规则分群 Rule segments · {TREND}",
    f"聚类客群 Clusters · {SIZE}",
    f"聚类客群 Clusters · {MOVES}",
    f"聚类客群 Clusters · {TREND}",
    f"流失风险等级 Churn risk tiers · {SIZE}",
    f"流失风险等级 Churn risk tiers · {TREND}",
    "未购买客户 Customers without a purchase · 各发布日人数 customers on each published day",
    "客户画像 Customer profiles · 按 R 分与 F 分的客户数 customers by R score × F score",
    "客户画像 Customer profiles · 聚类客群的平均值（颜色：相对全部客户） cluster means (colour: relative to all customers)",
    "流失风险与预测价值 Churn risk and predicted value · 未来90天预测价值（本位币）与客户数 "
    "predicted value over the next 90 days (base currency) and customers · 按 RFM 分群 by RFM segment",
    "流失风险与预测价值 Churn risk and predicted value · 未来90天预测价值（本位币）与客户数 "
    "predicted value over the next 90 days (base currency) and customers · 按流失风险等级 by risk tier",
    "流失风险与预测价值 Churn risk and predicted value · 流失模型校准：各预测风险十分位的实际与预测流失（回测合并） "
    "churn model calibration: observed against predicted churn per decile, backtest cutoffs pooled",
    "数据质量 Data quality · 未进入入库层的行（全部加载） rows kept out of staging, all loads",
]


def test_report_md_is_chinese_first_by_default_and_english_first_in_en() -> None:
    zh = render_markdown(SUMMARY)
    assert zh.startswith("# 客户分群 Customer segments 2026-11-30\n")
    assert "## RFM 分群 RFM segments\n\n| 分群 segment | 客户数 customers |" in zh
    assert "| 冠军客户 (Champions) | 6 |\n| 未购买客户 (No Purchase) | 2 |" in zh
    assert "流失风险" not in zh
    assert zh.endswith("## 输出 Outputs\n\n导出 Exports: `/data/exports/2026-11-30`\n")
    en = render_markdown(SUMMARY, language="en")
    assert en.startswith("# Customer segments 客户分群 2026-11-30\n")
    assert "| Champions (冠军客户) | 6 |" in en
    assert en.endswith("## Outputs 输出\n\nExports 导出: `/data/exports/2026-11-30`\n")


def test_the_sources_table_has_an_erased_column_only_when_a_load_dropped_erased_rows() -> None:
    header = "| source 来源 | kind 类型 | files read 读取文件 | rows read 读取行 | staged 入库行 | quarantined 隔离行 "
    assert f"{header}| duplicates dropped 重复删除 | status 状态 |\n" in render_markdown(
        SUMMARY, language="en"
    )
    erased = {**SUMMARY["extract"][0], "rows_read": 12, "rows_erased": 2}
    en = render_markdown({**SUMMARY, "extract": [erased]}, language="en")
    assert (
        f"{header}| duplicates dropped 重复删除 | erased people's rows 已删除者的行 | status 状态 |\n"
        "|---|---|---|---|---|---|---|---|---|\n| crm | members | 1/1 | 12 | 9 | 1 | 0 | 2 | loaded |\n"
    ) in en


def test_report_md_names_the_clusters() -> None:
    summary = {**SUMMARY, "segments": {**SUMMARY["segments"], "cluster_model": CLUSTER_MODEL}}
    assert "| 普通客户 (typical customers) | 8 |" in render_markdown(summary)
    assert "| 0 | 8 |" in render_markdown(SUMMARY)  # an older summary without names: the id


def test_the_cluster_model_is_in_the_clusters_section_and_counts_them_once() -> None:
    # its table, k and tree were after the membership changes, under their heading, below a table of the counts
    summary = {
        **SUMMARY,
        "segments": {**SUMMARY["segments"], "cluster_model": CLUSTER_MODEL},
        "changes": {"cluster": {"entered": 8, "exited": 0}},
    }
    sections = {
        part.split("\n", 1)[0]: part for part in render_markdown(summary, language="en").split("\n## ")
    }
    clusters = sections["Clusters 聚类客群"]
    assert clusters.count("| typical customers (普通客户) | 8 |") == 1
    assert f"\n\nk = {CLUSTER_MODEL['k']} (" in clusters
    assert "### Decision tree (depth 3) 决策树（深度 3）" in clusters
    assert sections["Membership changes 分群变化"] == (
        "Membership changes 分群变化\n\n| scheme 方案 | entered 进入 | exited 离开 |\n|---|---|---|\n"
        "| Clusters (聚类客群) | 8 | 0 |\n"
    )


def test_report_md_says_its_cluster_figures_are_centres_not_means() -> None:
    # the HTML report's cluster means are the members' averages: higher for skewed features, never the same table
    summary = {**SUMMARY, "segments": {**SUMMARY["segments"], "cluster_model": CLUSTER_MODEL}}
    text = render_markdown(summary, language="en")
    assert (
        "| id | name 名称 | customers 客户数 | new 新 | inactive days (centre) 未活跃天数（中心） | "
        "orders (centre) 订单（中心） | spend (centre) 消费（中心） | sessions 90d (centre) 90天会话（中心） |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| 0 | typical customers (普通客户) | 8 |  | 3.0 | 2.0 | 50.0 | 4.0 |\n\n"
        "Centre: the mean of each feature on its log1p scale, turned back into its unit: a typical member."
    ) in text


def test_the_cluster_table_leaves_out_sessions_when_no_cluster_has_any() -> None:
    # a shop's orders only: every centre 0 sessions, a column that says nothing
    clusters = [{**cluster, "sessions_90d": 0.0} for cluster in CLUSTER_MODEL["clusters"]]
    model = {**CLUSTER_MODEL, "clusters": clusters}
    text = render_markdown(
        {**SUMMARY, "segments": {**SUMMARY["segments"], "cluster_model": model}}, language="en"
    )
    assert (
        "| id | name 名称 | customers 客户数 | new 新 | inactive days (centre) 未活跃天数（中心） | "
        "orders (centre) 订单（中心） | spend (centre) 消费（中心） |\n"
        "|---|---|---|---|---|---|---|\n"
        "| 0 | typical customers (普通客户) | 8 |  | 3.0 | 2.0 | 50.0 |\n\n"
    ) in text


def test_the_predict_section_comes_before_the_outputs() -> None:
    text = render_markdown({**SUMMARY, "predict": PREDICT})
    section = predict_markdown(PREDICT, "zh")
    assert f"\n\n{section}\n## 输出 Outputs\n\n导出 Exports: `/data/exports/2026-11-30`\n" in text
    assert text.count("## 流失风险与价值 Churn risk and future value") == 1
    english = render_markdown({**SUMMARY, "predict": PREDICT}, "en")
    assert english.count("## Churn risk and future value (流失风险与价值)") == 1


def test_report_md_act_sections_render_what_is_there_and_say_nothing_yet_otherwise() -> None:
    sizes = [
        {"scheme": "lifecycle", "segment": "sleeping", "segment_zh": "沉睡", "customers": 900},
        {"scheme": "tier", "segment": "high", "segment_zh": "高价值", "customers": 200},
    ]
    text = render_markdown({**SUMMARY, "act": ACT, "scheme_sizes": sizes})
    assert (
        "## 活动效果 Campaign outcomes\n\n"
        "| 受众 audience | 指标 metric | 窗口 window | 处理组 treated | 对照组 holdout | 差异 difference | "
        "95% 区间 95% interval | 结论 verdict |\n|---|---|---|---|---|---|---|---|\n"
        "| 挽回沉睡客户 (Win back sleepers) | 转化率 (conversion) | 2026-11-01 – 2026-11-15 (+14d) | "
        "12.0% (n=800) | 5.0% (n=90) | +7.0 pp | [+2.0 pp, +12.0 pp] | 区间不含 0：处理组更高 the interval "
        "excludes 0: treated is higher |\n"
        "| 挽回沉睡客户 (Win back sleepers) | 人均收入 (revenue per member) | 2026-11-01 – 2026-11-15 (+14d) | "
        "10.50 (n=800) | 9.00 (n=90) | +1.50 | [-2.00, +5.00] | 区间包含 0：未见差异 the interval includes 0: "
        "no difference shown |"
    ) in text
    # segments by name, as the summary labels them (the config's keys, lifecycle:sleeping and tier:high, are not
    # what marketing reads)
    assert (
        "| 挽回沉睡客户 (Win back sleepers) | 生命周期：沉睡 (Sleeping) | 900 | 100 | 880 | 30 | 12 |" in text
    )
    assert (
        "| 类大R (Like whales) | 付费等级：高价值 (High value) | 200 | 1,800 | 40.0% | 10.0% | 25.0% | 10.0% |  |"
        in text
    )
    assert (
        "获推荐客户 customers with recommendations: 5,000; 推荐覆盖的品类 catalogue coverage 50.0%; "
        "推荐条数（按来源） recommendations by source: item_similarity 4,000, popular 1,000" in text
    )
    partial = render_markdown({**SUMMARY, "act": {"audiences": ACT["audiences"], "recommendations": {}}})
    assert (
        "## 活动效果 Campaign outcomes\n\n暂无数据 nothing yet\n\n## 相似人群 Lookalike audiences\n\n暂无数据"
        in partial
    )
    assert "## 个性化推荐 Recommendations\n\n暂无数据 nothing yet\n\n## 输出 Outputs" in partial
    assert "活动效果" not in render_markdown({**SUMMARY, "act": {}})  # no act stage: no act sections


def test_every_scheme_is_charted_with_labelled_bars_in_reading_order() -> None:
    figures = dict(report_figures(DATA))
    assert list(figures) == CHARTS
    rfm, apart = figures[CHARTS[0]]["data"]  # the customers without a purchase: a bar on an axis of its own
    assert rfm["y"] == ["冠军客户 (Champions)", "已流失客户 (Lost)"]
    assert rfm["x"] == [2, 2]
    assert rfm["text"] == ["2 (40.0%)", "2 (40.0%)"]
    assert rfm["marker"]["color"] == ["#4C78A8", "#F58518"]
    assert (apart["y"], apart["text"], apart["marker"]["color"]) == (
        ["未购买客户 (No Purchase)"],
        ["1 (20.0%)"],
        [NO_PURCHASE_COLOUR],
    )
    assert (rfm["xaxis"], apart["xaxis"]) == ("x", "x2")
    tiers, no_tier = figures[CHARTS[3]]["data"]
    assert tiers["y"] + no_tier["y"] == [
        "高价值 (High value)",
        "低价值 (Low value)",
        "未消费 (No purchase)",
    ]
    rules = figures[CHARTS[6]]["data"][0]
    assert rules["y"] == ["高频玩家 (high frequency players)", "高意向未付费 (high intent not paying)"]
    assert rules["text"] == ["3 (60.0%)", "2 (40.0%)"]
    clusters = figures[CHARTS[9]]["data"][0]
    assert clusters["y"] == [
        "高消费近期活跃客户 (high-spending recently active customers)",
        "未付费客户 (non-paying customers)",
    ]
    risk = figures[CHARTS[12]]["data"][0]
    assert (risk["y"], risk["text"]) == (
        ["高 (High risk)", "低 (Low risk)"],
        ["3 (60.0%)", "1 (20.0%)"],
    )
    assert figures[CHARTS[12]]["layout"]["font"]["family"] == FONT_STACK


def test_changes_are_entered_right_and_exited_left_per_segment() -> None:
    figures = dict(report_figures(DATA))
    entered, exited = figures[CHARTS[1]]["data"]
    assert entered["y"] == ["冠军客户 (Champions)", "已流失客户 (Lost)", "未购买客户 (No Purchase)"]
    assert (entered["x"], exited["x"]) == ([1, 2, 0], [0, 0, -3])
    assert (entered["text"], exited["text"]) == (["+1", "+2", ""], ["", "", "-3"])
    first = {**DATA, "segment_changes": [row[:4] + (None,) for row in DATA["segment_changes"]]}
    assert [t for t, _ in report_figures(first)][1] == (
        "RFM 分群 RFM segments · 进入与离开（首个发布日：全部为进入） entered and exited (first published day: "
        "everyone entered)"
    )
    clusters = figures[CHARTS[10]]["data"][0]
    assert (clusters["y"], clusters["x"]) == (["未付费客户 (non-paying customers)"], [2])


def test_trends_keep_the_non_purchasers_apart() -> None:
    figures = dict(report_figures(DATA))
    rfm = figures[CHARTS[2]]["data"]
    assert [(t["name"], t["x"], t["y"]) for t in rfm] == [
        ("冠军客户 (Champions)", ["2026-11-29", "2026-11-30"], [1, 2]),
        ("已流失客户 (Lost)", ["2026-11-29", "2026-11-30"], [0, 2]),
    ]
    (apart,) = figures[CHARTS[14]]["data"]
    assert (apart["name"], apart["y"]) == ("未购买客户 (No Purchase)", [4, 1])


def test_a_panel_never_repeats_a_colour() -> None:
    for n in (1, 10, 12, 24, 26):
        assert len(set(palette(n))) == n
    many = {
        **DATA,
        "segments": [seg(DAY2, "rules", f"rule_{i:02d}", f"规则{i}", None, 30 - i) for i in range(12)],
    }
    (trend,) = [f for title, f in report_figures(many) if title.startswith("规则分群") and TREND in title]
    colours = [t["line"]["color"] for t in trend["data"]]
    assert len(colours) == 12 and len(set(colours)) == 12


def test_english_reports_put_english_first() -> None:
    figures = dict(report_figures({**DATA, "language": "en"}))
    title = "RFM segments RFM 分群 · size today (customers, share of all) 今日规模（人数与占全部客户比例）"
    assert figures[title]["data"][0]["y"][0] == "Champions (冠军客户)"


def test_act_sections_chart_outcomes_as_intervals_and_say_nothing_yet_without_rows() -> None:
    sections = {s.heading: s for s in report_sections({**DATA, "act": ACT})}
    outcomes = sections["活动效果 Campaign outcomes"]
    (title, conversion, _), (_, revenue, _) = outcomes.charts
    assert title == "转化率 (conversion) · 差异与 95% 区间 difference and 95% interval"
    point = conversion["data"][0]
    assert (point["x"], point["error_x"]["array"], point["error_x"]["arrayminus"]) == (
        [0.07],
        [pytest.approx(0.05)],
        [pytest.approx(0.05)],
    )
    assert point["text"] == ["+7.0 pp"]
    assert revenue["data"][0]["marker"]["color"] == ["#7F7F7F"]  # the interval includes 0
    assert outcomes.notes == [
        "挽回沉睡客户 (Win back sleepers) · 转化率 (conversion): 区间不含 0：处理组更高 the interval excludes 0: "
        "treated is higher",
        "挽回沉睡客户 (Win back sleepers) · 人均收入 (revenue per member): 区间包含 0：未见差异 the interval "
        "includes 0: no difference shown",
    ]
    lookalike = sections["相似人群 Lookalike audiences"].charts[0][1]
    assert [t["x"] for t in lookalike["data"]] == [[0.4], [0.1], [0.25]]
    audiences = sections["营销受众与对照组 Audiences and holdouts"].charts[0][1]
    assert [t["x"] for t in audiences["data"]] == [[900], [100]]
    recommendations = sections["个性化推荐 Recommendations"].charts[0][1]
    assert [t["name"] for t in recommendations["data"]] == ["precision", "recall", "NDCG", "coverage"]
    assert recommendations["data"][2]["x"] == [0.25, 0.12]
    nothing = {s.heading: s for s in report_sections(DATA)}
    for heading in (
        "活动效果 Campaign outcomes",
        "相似人群 Lookalike audiences",
        "营销受众与对照组 Audiences and holdouts",
    ):
        assert (nothing[heading].notes, nothing[heading].charts) == (["暂无数据 nothing yet"], [])
    assert nothing["个性化推荐 Recommendations"].notes == ["暂无数据 nothing yet"]


def test_report_figures_without_predictions_drop_the_risk_section() -> None:
    empty = {**DATA, "risk_value": [], "calibration": [], "churn_model": None}
    empty["segments"] = [row for row in DATA["segments"] if row[1] != "risk"]
    titles = [title for title, _ in report_figures(empty)]
    assert not [t for t in titles if "流失" in t]


def test_the_html_is_self_contained_and_declares_the_cjk_fonts() -> None:
    page = render_html({**DATA, "act": ACT})
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert page.count("Plotly.newPlot(") == len(report_figures({**DATA, "act": ACT}))
    assert page.count('<script type="text/javascript">/**\n* plotly.js') == 1  # the library, inline, once
    outside = page.replace(get_plotlyjs(), "")  # what the report writes besides the library
    assert "<script src=" not in outside and "cdn.plot.ly" not in outside and "http" not in outside
    assert f"font-family:{FONT_STACK}" in page
    assert '"Noto Sans CJK SC"' in page and "Microsoft YaHei" in page
    assert "<h2>活动效果 Campaign outcomes</h2>" in page
    assert render_html({**DATA, "language": "en"}).startswith('<!DOCTYPE html>\n<html lang="en">')


def test_an_outcome_without_an_interval_is_a_point_without_bars_and_says_so() -> None:
    """One held-out entry: a difference, no variance on that side, so no interval (as published)."""
    single = {**ACT["outcomes"][0], "holdout": 1, "holdout_value": 0.0, "difference": 0.12}
    single |= {"ci_low": None, "ci_high": None}
    act = {**ACT, "outcomes": [single]}
    sections = {s.heading: s for s in report_sections({**DATA, "act": act})}
    outcomes = sections["活动效果 Campaign outcomes"]
    point = outcomes.charts[0][1]["data"][0]
    assert (point["x"], point["error_x"]["array"], point["error_x"]["arrayminus"]) == (
        [0.12],
        [0.0],
        [0.0],
    )
    assert "[–, –]" in render_markdown({**SUMMARY, "act": act})


def test_a_stability_row_lists_the_largest_size_changes_and_counts_the_rest() -> None:
    from tasks.publish.segment_names import size_changes

    changes = [
        {"segment": str(n), "change": change}
        for n, change in enumerate([427, 545, -413, 822, -430, 5, -540, -411])
    ]
    assert size_changes(changes) == "3 +822, 1 +545, 6 -540, 4 -430, 0 +427, 2 -413 … and 2 more"
    assert size_changes(changes[:2]) == "1 +545, 0 +427"
    assert size_changes([]) == "none"


def test_the_stability_table_and_the_act_tables_name_segments_as_the_report_does() -> None:
    from tasks.publish.report_markdown import _stability_parts
    from tasks.publish.segment_names import reference_name, segment_names

    summary = {
        **SUMMARY,
        "segments": {**SUMMARY["segments"], "cluster_model": CLUSTER_MODEL},
        "scheme_sizes": [
            {"scheme": "tier", "segment": "low", "segment_zh": "低价值", "customers": 9},
            {"scheme": "rules", "segment": "churn_warning", "segment_zh": "流失预警", "customers": 3},
            {"scheme": "rules", "segment": "high_frequency", "segment_zh": "高频玩家", "customers": 5},
            {"scheme": "rfm_cn", "segment": "Important Value", "segment_zh": "重要价值客户", "customers": 4},
        ],
        "act": ACT,
    }
    names = segment_names(summary, "zh")
    stability = {
        "previous_as_of": "2026-11-29",
        "schemes": [
            {
                "scheme": "rules",
                "ari": 0.98,
                "customers_compared": 12345,
                "changed": 1238,
                "size_changes": [
                    {"segment": "churn_warning,high_frequency", "change": 263},
                    {"segment": "(none)", "change": -106},
                    {"segment": "unknown_rule", "change": 2},
                ],
            },
            {
                "scheme": "cluster",
                "ari": 0.99,
                "customers_compared": 12345,
                "changed": 440,
                "size_changes": [{"segment": "0", "change": -1237}],
            },
            {
                "scheme": "tier",
                "ari": 0.99,
                "customers_compared": 12345,
                "changed": 178,
                "size_changes": [{"segment": "low", "change": -79}, {"segment": "medium", "change": 79}],
            },
        ],
    }
    assert _stability_parts(stability, "zh", names)[1].splitlines()[2:] == [
        "| 规则分群 (Rule segments) | 0.98 | 12,345 | 1,238 | 流失预警 (churn warning) + 高频玩家 (high frequency) +263, "
        "无 (none) -106, unknown rule +2 |",
        f"| 聚类客群 (Clusters) | 0.99 | 12,345 | 440 | {names['cluster:0']} -1,237 |",
        "| 付费等级 (Value tiers) | 0.99 | 12,345 | 178 | 低价值 (Low value) -79, Medium value +79 |",
    ]
    assert names["cluster:0"] == "{} ({})".format(
        CLUSTER_MODEL["clusters"][0]["name_zh"], CLUSTER_MODEL["clusters"][0]["name_en"]
    )
    # the keys of the config's audiences and lookalike seeds; Chinese 8-class RFM by its Chinese class
    assert (
        reference_name(names, "rfm_cn:重要价值客户", "zh") == "RFM 八类客户：重要价值客户 (Important Value)"
    )
    assert reference_name(names, "lookalike:like_whales", "en") == "Lookalike audiences: 类大R (Like whales)"
    assert reference_name(segment_names(summary, "en"), "lookalike:like_whales", "en") == (
        "Lookalike audiences: Like whales (类大R)"
    )
    assert reference_name(names, "rfm:Champions", "zh") == "RFM 分群：冠军客户 (Champions)"
    assert reference_name(names, "not a key", "zh") == "not a key"
    assert (
        reference_name(names, "tier: low", "zh") == "付费等级：低价值 (Low value)"
    )  # as the config may space it
    assert (
        reference_name(names, "rfm:Hibernating", "zh") == "RFM 分群：冬眠客户 (Hibernating)"
    )  # nobody in it today


def test_a_comparison_that_tells_nothing_says_so() -> None:
    from tasks.publish.report_notes import evaluation_note, lookalike_note

    same = {"users": 40, "precision": 0.4581, "recall": 0.892, "ndcg": 0.801}
    tied = {"items": 5, "evaluation": [{"model": "item_similarity", **same}, {"model": "popularity", **same}]}
    assert evaluation_note(tied, "en") == (
        " — the model scored exactly as the popularity baseline (5 items in the catalogue): the comparison tells "
        "nothing about the model 模型与热门基线得分完全相同（品类共 5 个）：此对比说明不了模型的好坏"
    )
    better = {**tied, "evaluation": [tied["evaluation"][0], {"model": "popularity", **same, "ndcg": 0.7}]}
    assert evaluation_note(better, "en") == ""
    worse = {
        **tied,
        "evaluation": [{"model": "item_similarity", **same, "precision": 0.03}, tied["evaluation"][1]],
    }
    assert evaluation_note(worse, "en") == (
        " — the model scored below the popularity baseline (precision 0.030 < 0.458): the most popular items would "
        "be better recommendations here 模型得分低于热门基线（precision 0.030 < 0.458）：此处推荐最热门的品类更好"
    )
    # nobody to score (no customer took up an item in the window): no metric, no claim
    nobody = {"users": 0, "precision": None, "recall": None, "ndcg": None}
    empty = {
        "items": 500,
        "evaluation": [{"model": "item_similarity", **nobody}, {"model": "popularity", **nobody}],
    }
    assert evaluation_note(empty, "en") == ""
    assert lookalike_note({"found_share": 1.0, "rule_share": 1.0}, "en") == (
        "the rule finds at least as many as the model: the model adds nothing here "
        "规则找到的至少与模型一样多：模型没有带来额外价值"
    )
    assert lookalike_note({"found_share": 0.62, "rule_share": 0.31}, "en") == ""
    assert lookalike_note({"found_share": None, "rule_share": 0.31}, "en") == ""


def test_the_blocking_note_of_an_incremental_run_says_whose_pairs_were_compared() -> None:
    from tasks.publish.report_markdown import _dedupe_notes

    blocking = [{"rule": "phone", "pairs": 12, "chosen": True}, {"rule": "name", "pairs": 0, "chosen": False}]
    dedupe = {
        "overshared_keys": [],
        "blocking": blocking,
        "candidate_pairs": 0,
        "matcher_mode": "incremental",
    }
    assert _dedupe_notes(dedupe | {"changed_records": 0})[0] == (
        "Blocking rules chosen from the data (1 of 2 candidates; 0 distinct candidate pairs compared, of the 0 "
        "records new or changed since the last run):"
    )
    full = {**dedupe, "matcher_mode": "refit", "candidate_pairs": 12}
    assert _dedupe_notes(full)[0] == (
        "Blocking rules chosen from the data (1 of 2 candidates; 12 distinct candidate pairs compared):"
    )


def test_the_report_counts_the_values_dedupe_could_not_use() -> None:
    from tasks.publish.report_markdown import _dedupe_notes

    dedupe = {"overshared_keys": [], "unusable_values": {"phone": 1204, "birth_date": 3}}
    assert _dedupe_notes(dedupe) == [
        "Values given but unusable (invalid, implausible or a placeholder), left out of matching and of the "
        "golden record; `core.customer_records` lists them (`phone is not null and phone_norm is null`):",
        "- phone: 1,204 records",
        "- birth_date: 3 records",
    ]
    assert _dedupe_notes({"overshared_keys": [], "unusable_values": {}}) == []


def test_audiences_that_list_nobody_say_why_in_both_reports() -> None:
    nobody = {**ACT["audiences"][0], "listed": 0}
    act = {**ACT, "audiences": [nobody]}
    note = (
        "nobody is listed: outreach lists hold only customers with marketing consent (marketing_consent true), not "
        "suppressed, with an address for the channel; when no source records consent, nobody may be contacted"
    )
    text = render_markdown({**SUMMARY, "act": act}, language="en")
    assert (
        f"| Win back sleepers (挽回沉睡客户) | Lifecycle stages: Sleeping | 900 | 100 | 0 | 30 | 12 |\n\n{note} 名单为空："
        in text
    )
    # 880 listed: nothing to explain
    assert note not in render_markdown({**SUMMARY, "act": ACT}, language="en")
    sections = {s.heading: s for s in report_sections({**DATA, "act": act, "language": "en"})}
    assert [n for n in sections["Audiences and holdouts 营销受众与对照组"].notes if n.startswith(note)] != []
    # everyone held out: nobody could be listed, and nothing needs saying
    held_out = {**nobody, "members": 100, "holdout": 100}
    assert note not in render_markdown({**SUMMARY, "act": {**ACT, "audiences": [held_out]}}, language="en")


def test_both_reports_say_the_currency_of_their_amounts() -> None:
    en = render_markdown({**SUMMARY, "currency": "GBP"}, language="en")
    assert (
        "Run `run-1` · config `abc` · warehouse `/data/warehouse.duckdb` · amounts in GBP 金额单位 GBP\n"
        in en
    )
    assert "金额单位" not in render_markdown(SUMMARY)  # a summary written before it said its currency
    page = render_html({**DATA, "currency": "GBP", "language": "en"})
    assert '<p class="meta">run run-1 · config abc · amounts in GBP 金额单位 GBP</p>' in page


def test_report_md_lists_the_other_schemes_in_their_order_of_meaning() -> None:
    from tasks.publish.report_markdown import _scheme_parts

    sizes = [
        {"scheme": "tier", "segment": "low", "segment_zh": "低价值", "customers": 9},
        {"scheme": "tier", "segment": "high", "segment_zh": "高价值", "customers": 2},
        {"scheme": "rules", "segment": "churn_warning", "segment_zh": "流失预警", "customers": 3},
        {"scheme": "rfm_cn", "segment": "Important Value", "segment_zh": "重要价值客户", "customers": 4},
        {"scheme": "lifecycle", "segment": "churned", "segment_zh": "流失", "customers": 7},
        {"scheme": "lifecycle", "segment": "new", "segment_zh": "新客户", "customers": 1},
    ]
    assert _scheme_parts(sizes, "en") == [
        "## Other segment schemes 其他分群",
        "| scheme 方案 | segment 分群 | customers 客户数 |\n|---|---|---|\n"
        "| Value tiers (付费等级) | High value (高价值) | 2 |\n"
        "| Value tiers (付费等级) | Low value (低价值) | 9 |\n"
        "| Lifecycle stages (生命周期) | New (新客户) | 1 |\n"
        "| Lifecycle stages (生命周期) | Churned (流失) | 7 |\n"
        "| Chinese 8-class RFM (RFM 八类客户) | Important Value (重要价值客户) | 4 |\n"
        "| Rule segments (规则分群) | churn warning (流失预警) | 3 |",
    ]
    assert _scheme_parts([], "en") == []
