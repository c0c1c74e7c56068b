"""The sentences the act sections of both reports add under their tables: why nobody is listed, who got
recommendations, when a model scored no better than its baseline, and that there is nothing yet."""

from typing import Any

from tasks.act.recommend import BASELINE, MODEL
from tasks.publish.labels import Language, both

NOTHING_YET = ("暂无数据", "nothing yet")


def recommendation_line(recommendations: dict[str, Any], language: Language) -> str:
    """Who got recommendations, from which source, and why not when no one did."""
    if not recommendations:
        return both(*NOTHING_YET, language)
    sources = ", ".join(f"{k} {v:,}" for k, v in (recommendations.get("by_source") or {}).items())
    coverage = recommendations.get("coverage")
    line = both("获推荐客户", "customers with recommendations", language) + (
        f": {recommendations.get('customers') or 0:,}"
        + (
            f"; {both('推荐覆盖的品类', 'catalogue coverage', language)} {coverage:.1%}"
            if coverage is not None
            else ""
        )
        + (
            f"; {both('推荐条数（按来源）', 'recommendations by source', language)}: {sources}"
            if sources
            else ""
        )
    )
    if recommendations.get("reason"):
        line += f" — {recommendations['reason']}"
    return line + evaluation_note(recommendations, language)


def evaluation_note(recommendations: dict[str, Any], language: Language) -> str:
    """Says so when the model's lists scored exactly as the popularity baseline's (the comparison tells nothing),
    or below it on every measure (the most popular items would do better)."""
    metrics = ("precision", "recall", "ndcg")
    evaluation = [e for e in recommendations.get("evaluation") or [] if e.get("users")]
    if any(e.get(k) is None for e in evaluation for k in metrics):
        return ""
    scores = {e["model"]: tuple(round(float(e[k]), 3) for k in metrics) for e in evaluation}
    model, baseline = scores.get(MODEL), scores.get(BASELINE)
    if model and baseline and model != baseline and all(m <= b for m, b in zip(model, baseline, strict=True)):
        said = ", ".join(
            f"{k} {m:.3f} < {b:.3f}" for k, m, b in zip(metrics, model, baseline, strict=True) if m < b
        )
        return " — " + both(
            f"模型得分低于热门基线（{said}）：此处推荐最热门的品类更好",
            f"the model scored below the popularity baseline ({said}): the most popular items would be better "
            "recommendations here",
            language,
        )
    if len(scores) < 2 or len(set(scores.values())) > 1:
        return ""
    items = recommendations.get("items") or 0
    return " — " + both(
        f"模型与热门基线得分完全相同（品类共 {items} 个）：此对比说明不了模型的好坏",
        f"the model scored exactly as the popularity baseline ({items} items in the catalogue): the comparison "
        "tells nothing about the model",
        language,
    )


def listed_note(audiences: list[dict[str, Any]], language: Language) -> str:
    """Says why when audiences have members outside their holdouts but nobody is on an outreach list, else ""."""
    treated = sum((a.get("members") or 0) - (a.get("holdout") or 0) for a in audiences)
    if treated <= 0 or any(a.get("listed") for a in audiences):
        return ""
    return both(
        "名单为空：触达名单只收有营销许可（marketing_consent 为真）、未被屏蔽且有该渠道联系方式的客户；"
        "没有数据源记录营销许可时，没有人可以被联系",
        "nobody is listed: outreach lists hold only customers with marketing consent (marketing_consent true), "
        "not suppressed, with an address for the channel; when no source records consent, nobody may be contacted",
        language,
    )


def lookalike_note(lookalike: dict[str, Any], language: Language) -> str:
    """Says so when the seed's rule finds as many of the held-out seed as the model (the model adds nothing)."""
    found, rule = lookalike.get("found_share"), lookalike.get("rule_share")
    if found is None or rule is None or round(float(rule), 3) < round(float(found), 3):
        return ""
    return both(
        "规则找到的至少与模型一样多：模型没有带来额外价值",
        "the rule finds at least as many as the model: the model adds nothing here",
        language,
    )
