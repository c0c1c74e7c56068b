"""The act stage's part of report.html: audiences with holdouts, campaign outcomes with their intervals,
lookalikes and recommendations (the same tables as report.md, with charts)."""

from typing import Any

from tasks.publish.labels import METRICS, Language, both, label
from tasks.publish.report_charts import Section, grouped_bars, interval_chart
from tasks.publish.report_markdown import ACT_HEADINGS, act_tables, difference_text, outcome_verdict
from tasks.publish.report_notes import NOTHING_YET, listed_note, recommendation_line


def act_sections(data: dict[str, Any]) -> list[Section]:
    """The act stage's results: audiences, outcomes with their intervals, lookalikes, recommendations."""
    language: Language = data.get("language", "zh")
    act = data.get("act") or {}
    tables = act_tables(act, language, data.get("segment_names") or {})
    sections = []
    for key, (zh, en) in ACT_HEADINGS.items():
        section = Section(both(zh, en, language))
        if key in tables:
            section.tables.append(tables[key])
        if key == "audiences" and act.get("audiences"):
            audiences = act["audiences"]
            if note := listed_note(audiences, language):
                section.notes.append(note)
            section.charts.append(
                (
                    both("受众人数与对照组", "audience members and holdout", language),
                    grouped_bars(
                        [label(a.get("label_zh"), a.get("label_en"), language) for a in audiences],
                        {
                            both("成员", "members", language): [a.get("members") or 0 for a in audiences],
                            both("对照组", "holdout", language): [a.get("holdout") or 0 for a in audiences],
                        },
                        language,
                        percent=False,
                        axis=both("客户数", "customers", language),
                    ),
                    False,
                )
            )
        if key == "outcomes" and act.get("outcomes"):
            outcomes = [o for o in act["outcomes"] if o.get("difference") is not None]
            for metric in dict.fromkeys(o["metric"] for o in outcomes):
                rows = [o for o in outcomes if o["metric"] == metric]
                section.charts.append(
                    (
                        label(*METRICS.get(metric, (metric, metric)), language)
                        + " · "
                        + both("差异与 95% 区间", "difference and 95% interval", language),
                        interval_chart(
                            [label(o.get("label_zh"), o.get("label_en"), language) for o in rows],
                            [float(o["difference"]) for o in rows],
                            # no interval (fewer than two entries on a side): a point without bars
                            [float(_or(o.get("ci_low"), o["difference"])) for o in rows],
                            [float(_or(o.get("ci_high"), o["difference"])) for o in rows],
                            language,
                            [difference_text(metric, o["difference"]) for o in rows],
                        ),
                        False,
                    )
                )
            section.notes += [
                f"{label(o.get('label_zh'), o.get('label_en'), language)} · "
                f"{label(*METRICS.get(o['metric'], (o['metric'], o['metric'])), language)}: "
                f"{outcome_verdict(o, language)}"
                for o in act["outcomes"]
            ]
        if key == "lookalikes" and any(x.get("found_share") is not None for x in act.get("lookalikes") or []):
            found = act["lookalikes"]
            section.charts.append(
                (
                    both(
                        "模型前列命中率：模型 vs 随机 vs 规则",
                        "share found in the top: model vs random vs rule",
                        language,
                    ),
                    grouped_bars(
                        [
                            label(x.get("label_zh"), x.get("label_en"), language) or x.get("name", "")
                            for x in found
                        ],
                        {
                            both("模型", "model", language): [
                                float(x.get("found_share") or 0) for x in found
                            ],
                            both("随机", "random", language): [
                                float(x.get("random_share") or 0) for x in found
                            ],
                            both("规则", "rule", language): [float(x.get("rule_share") or 0) for x in found],
                        },
                        language,
                        percent=True,
                        axis=both("命中比例", "share found", language),
                    ),
                    False,
                )
            )
        if key == "recommendations":
            recommendations = act.get("recommendations") or {}
            section.notes.append(recommendation_line(recommendations, language))
            evaluation = recommendations.get("evaluation") or []
            if evaluation:
                models = [f"{e['model']} @{e['k']}" for e in evaluation]
                section.charts.append(
                    (
                        both("推荐模型对比热门基线", "recommendation models against popularity", language),
                        grouped_bars(
                            models,
                            {
                                m: [float(e.get(m.lower()) or 0) for e in evaluation]
                                for m in ("precision", "recall", "NDCG", "coverage")
                            },
                            language,
                            percent=False,
                            axis=both("指标", "metric", language),
                        ),
                        False,
                    )
                )
        if not section.tables and not section.charts and key != "recommendations":
            section.notes.append(both(*NOTHING_YET, language))
        sections.append(section)
    return sections


def _or(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value
