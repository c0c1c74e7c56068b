"""The RFM schemes' segments: the named segments of the R × FM grid, the Chinese 8 classes, the fallback.

Kept apart from tasks/segment (whose package loads the models, scikit-learn and Prefect) so that
`segments check` checks the names a config uses without loading them (tasks/segment/rfm.py loads them as rule tables).
"""

from dataclasses import dataclass

from tasks.shared.config import PipelineConfig


@dataclass(frozen=True)
class RfmSegment:
    """A named RFM segment: the R and FM score ranges it covers (inclusive)."""

    name: str
    label_zh: str
    r_min: int
    r_max: int
    fm_min: int
    fm_max: int


# The 11 standard segments on the R × FM grid (FM = F and M averaged, rounded half up).
# Together they cover all 25 cells exactly once, so every scored customer gets one segment.
RFM_SEGMENTS: tuple[RfmSegment, ...] = (
    RfmSegment("Champions", "冠军客户", 5, 5, 4, 5),
    RfmSegment("Loyal", "忠诚客户", 3, 4, 4, 5),
    RfmSegment("Potential Loyalist", "潜在忠诚客户", 4, 5, 2, 3),
    RfmSegment("New", "新客户", 5, 5, 1, 1),
    RfmSegment("Promising", "有潜力客户", 4, 4, 1, 1),
    RfmSegment("Need Attention", "需要关注客户", 3, 3, 3, 3),
    RfmSegment("About To Sleep", "即将沉睡客户", 3, 3, 1, 2),
    RfmSegment("At Risk", "有流失风险客户", 1, 2, 3, 4),
    RfmSegment("Can't Lose Them", "不能失去的客户", 1, 2, 5, 5),
    RfmSegment("Hibernating", "冬眠客户", 2, 2, 1, 2),
    RfmSegment("Lost", "已流失客户", 1, 1, 1, 2),
)


@dataclass(frozen=True)
class Fallback:
    """The segment of every scheme for customers the scheme cannot score (no purchase yet)."""

    name: str
    label_zh: str


# Customers without a purchase have no R, F or M; in both RFM schemes they are in this segment.
NO_PURCHASE = Fallback("No Purchase", "未购买客户")


@dataclass(frozen=True)
class CnRfmClass:
    """A class of the Chinese 8-class RFM scheme: whether R, F and M are at or above the threshold."""

    name: str
    label_zh: str
    r_high: bool
    f_high: bool
    m_high: bool


# Each RFM segment's Chinese label by its name (the run summary's segment_labels; the reports).
RFM_ZH: dict[str, str] = {segment.name: segment.label_zh for segment in (*RFM_SEGMENTS, NO_PURCHASE)}


# 重要/一般 follows M; 价值/保持/发展/挽留 follows R and F.
CN_RFM_CLASSES: tuple[CnRfmClass, ...] = (
    CnRfmClass("Important Value", "重要价值客户", True, True, True),
    CnRfmClass("Important Retention", "重要保持客户", False, True, True),
    CnRfmClass("Important Development", "重要发展客户", True, False, True),
    CnRfmClass("Important Win-back", "重要挽留客户", False, False, True),
    CnRfmClass("General Value", "一般价值客户", True, True, False),
    CnRfmClass("General Retention", "一般保持客户", False, True, False),
    CnRfmClass("General Development", "一般发展客户", True, False, False),
    CnRfmClass("General Win-back", "一般挽留客户", False, False, False),
)


# The segments of each RFM scheme an audience or seed may name, as published.
RFM_KNOWN: dict[str, list[str]] = {
    "rfm": [segment.name for segment in RFM_SEGMENTS] + [NO_PURCHASE.name],
    "rfm_cn": [cn_class.label_zh for cn_class in CN_RFM_CLASSES] + [NO_PURCHASE.label_zh],
}


def unknown_rfm_segment(who: str, scheme: str, segment: str) -> str | None:
    """What is wrong with who naming scheme:segment when an RFM scheme has no such segment; None otherwise."""
    if scheme not in RFM_KNOWN or segment in RFM_KNOWN[scheme]:
        return None
    return (
        f"act: {who} names '{scheme}:{segment}', but {scheme} has no segment {segment!r} "
        f"(it has: {', '.join(RFM_KNOWN[scheme])})"
    )


def unknown_rfm_segments(config: PipelineConfig) -> list[str]:
    """The act stage's audiences and lookalike seeds that name an RFM segment or Chinese RFM class that does not
    exist (a misspelt name would give an audience of nobody, every day)."""
    said = (unknown_rfm_segment(*reference) for reference in config.act.segment_references())
    return [line for line in said if line is not None]
