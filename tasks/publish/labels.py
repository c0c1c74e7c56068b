"""The report's words in two languages: headings, scheme names, segment labels, the CJK font stack.

A report's language is zh (Chinese first, English second) or en (English first, Chinese second), from
config.report.language. Segment labels come from the published columns (rfm_segment_zh, cluster_name_zh,
…) and, for the English side of keys that have none, from the tables here.
"""

from typing import Literal

from tasks.shared.contracts import SEGMENT_CODES

Language = Literal["zh", "en"]

# Declared in the CSS and in every plotly layout: fonts with Chinese glyphs first (Debian: fonts-noto-cjk;
# macOS: PingFang; Windows: Microsoft YaHei), so Chinese never falls back to boxes where one is installed.
FONT_STACK = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", sans-serif'
)

# (zh, en) of each scheme, in the report's order (keys of segment_size_trend.sql)
SCHEMES: dict[str, tuple[str, str]] = {
    "rfm": ("RFM 分群", "RFM segments"),
    "rfm_cn": ("RFM 八类客户", "Chinese 8-class RFM"),
    "tier": ("付费等级", "Value tiers"),
    "lifecycle": ("生命周期", "Lifecycle stages"),
    "rules": ("规则分群", "Rule segments"),
    "cluster": ("聚类客群", "Clusters"),
    "risk": ("流失风险等级", "Churn risk tiers"),
}

# The act stage's lookalike audiences: a report section, and the scheme of an audience or seed that names one
LOOKALIKES = ("相似人群", "Lookalike audiences")

# English labels of keys whose published English is a code (value_tier, lifecycle_stage, risk_tier)
ENGLISH: dict[str, dict[str, str]] = {
    "tier": {"high": "High value", "medium": "Medium value", "low": "Low value", "none": "No purchase"},
    "lifecycle": {
        "never_purchased": "Never purchased",
        "new": "New",
        "active": "Active",
        "sleeping": "Sleeping",
        "churned": "Churned",
    },
    "risk": {"high": "High risk", "medium": "Medium risk", "low": "Low risk"},
}

# Orders that carry meaning (best to worst); other schemes are ordered by size.
ORDER: dict[str, tuple[str, ...]] = SEGMENT_CODES

METRICS: dict[str, tuple[str, str]] = {
    "conversion": ("转化率", "conversion"),
    "revenue_per_member": ("人均收入", "revenue per member"),
    "retention": ("留存率", "retention"),
}


def both(zh: str, en: str, language: Language) -> str:
    """A heading in both languages, the report's language first: 客户分群 Customer segments."""
    return f"{zh} {en}" if language == "zh" else f"{en} {zh}"


def partial_notes(as_of: str, timezone: str) -> tuple[str, str]:
    """The warning on a day published before it ended, (zh, en): in report.md, report.html, the Prefect
    artifact and the command line."""
    return (
        f"当日未结束：本次运行开始时 {as_of}（{timezone}）尚未结束，分群只含当时已加载的数据；"
        "当日结束后的第一次运行会重新计算并发布这一天。",
        f"Partial day: {as_of} had not ended in {timezone} when this run started, so these segments hold only "
        "the data loaded by then; the first run after the day ends computes and publishes it again.",
    )


def partial_note(as_of: str, timezone: str, language: Language, between: str = " ") -> str:
    """partial_notes in the report's language order; between: what separates them ("\n": one line each)."""
    zh, en = partial_notes(as_of, timezone)
    return between.join((zh, en) if language == "zh" else (en, zh))


def label(zh: str | None, en: str | None, language: Language, between: str = " ") -> str:
    """A label in both languages, the other in parentheses: 冠军客户 (Champions); one alone if that is all.
    between: what separates the two ("<br>": a chart's axis label on two lines)."""
    zh, en = (zh or "").strip(), (en or "").strip()
    if not zh or not en or zh == en:
        return zh or en
    first, second = (zh, en) if language == "zh" else (en, zh)
    return f"{first}{between}({second})"


def english(scheme: str, segment: str, published: str | None) -> str:
    """The English label of a segment: the table's above for coded keys, else the published one, else the key."""
    words = ENGLISH.get(scheme, {}).get(segment) or published or segment
    return words.replace("_", " ") if scheme == "rules" else words


def amounts_in(currency: str, language: Language) -> str:
    """What a report says of its amounts' unit: the config's base currency (currency.base)."""
    return both(f"金额单位 {currency}", f"amounts in {currency}", language)
