"""Readable names for segments that a report refers to by key: an audience's segment and a lookalike's seed
(`scheme:segment`, as the config spells them), and the segments of the stability table's size changes.

Names come from the run summary's own labels: the RFM names and their Chinese labels, the other schemes' sizes
with their Chinese labels (published/scheme_sizes.sql), the clusters' names and the lookalikes' labels. A key
the summary has no label for is shown in English (labels.ENGLISH) or as it is.
"""

from collections.abc import Callable
from typing import Any

from tasks.publish.labels import LOOKALIKES, SCHEMES, Language, english, label
from tasks.shared.rfm_names import RFM_ZH

NONE = ("无", "none")  # a customer in no rule segment (the stability table's "(none)")


def segment_names(summary: dict[str, Any], language: Language) -> dict[str, str]:
    """Each segment's name in the report's languages by its key, `scheme:segment`."""
    names: dict[str, str] = {}
    segments = summary.get("segments") or {}
    rfm_zh = RFM_ZH | (summary.get("segment_labels") or {})
    names["rules:(none)"] = label(*NONE, language)
    for name in rfm_zh | (segments.get("rfm_segments") or {}):  # a segment empty today too
        names[f"rfm:{name}"] = label(rfm_zh.get(name), name, language)
    for size in summary.get("scheme_sizes") or []:
        scheme, segment, zh = size["scheme"], size["segment"], size.get("segment_zh")
        names[f"{scheme}:{segment}"] = label(zh, english(scheme, segment, segment), language)
        # an rfm_cn key is the Chinese class (rfm_cn:重要挽留客户), its size the English
        if scheme == "rfm_cn" and zh:
            names[f"rfm_cn:{zh}"] = names[f"{scheme}:{segment}"]
    for cluster in (segments.get("cluster_model") or {}).get("clusters", []):
        names[f"cluster:{cluster['cluster_id']}"] = label(
            cluster.get("name_zh"), cluster.get("name_en"), language
        )
    for lookalike in (summary.get("act") or {}).get("lookalikes") or []:
        text = label(lookalike.get("label_zh"), lookalike.get("label_en"), language)
        names[f"lookalike:{lookalike['name']}"] = text or lookalike["name"]
    return names


def segment_name(names: dict[str, str], scheme: str, segment: Any) -> str:
    """One segment's name (a set of rule segments, "a,b", each by its name); unnamed, its English (labels.ENGLISH
    for a coded key: Sleeping) or the key's segment."""
    if scheme == "rules" and segment != "(none)":
        return " + ".join(
            names.get(f"rules:{rule}") or english(scheme, rule, None) for rule in str(segment).split(",")
        )
    return names.get(f"{scheme}:{segment}") or english(scheme, str(segment), None)


def scheme_name(scheme: str, language: Language) -> str:
    """A scheme's name in the report's first language (规则分群, Rule segments); the key if it has none."""
    zh, en = LOOKALIKES if scheme == "lookalike" else SCHEMES.get(scheme, (scheme, scheme))
    return zh if language == "zh" else en


def reference_name(names: dict[str, str], reference: str, language: Language) -> str:
    """A `scheme:segment` key as the report shows it: 规则分群：流失预警 (churn warning); the key if malformed."""
    scheme, colon, segment = (part.strip() for part in reference.partition(":"))
    if not colon:
        return reference
    separator = "：" if language == "zh" else ": "
    return f"{scheme_name(scheme, language)}{separator}{segment_name(names, scheme, segment)}"


# Size changes a stability row lists; the rest are counted ("… and 2 more").
SIZE_CHANGES_SHOWN = 6


def size_changes(changes: list[dict[str, Any]], name: Callable[[Any], str] = str) -> str:
    """The largest size changes of a scheme (by how many customers, then segment), each segment by name, and
    how many are left out."""
    ranked = sorted(changes, key=lambda c: (-abs(c["change"]), str(c["segment"])))
    shown = (
        ", ".join(f"{name(c['segment'])} {c['change']:+,d}" for c in ranked[:SIZE_CHANGES_SHOWN]) or "none"
    )
    left = len(ranked) - SIZE_CHANGES_SHOWN
    return f"{shown} … and {left} more" if left > 0 else shown
