"""One customer's profile (customer 360): identities and how they were merged, golden record, features,
segments and tags."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tasks.dedupe.explain import LinkWaterfall, customer_waterfalls, probability_text, waterfall_lines
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

# Published columns shown under "Segments", as (English column, Chinese column, heading).
SEGMENT_HEADINGS = (
    ("rfm_segment", "rfm_segment_zh", "RFM segment"),
    ("rfm_cn_class_en", "rfm_cn_class", "RFM 8 classes"),
    ("value_tier", "value_tier_zh", "value tier"),
    ("lifecycle_stage", "lifecycle_stage_zh", "lifecycle stage"),
    ("cluster_name", "cluster_name_zh", "cluster"),
    ("rule_segments", "rule_segments_zh", "rule segments"),
)
SCORE_COLUMNS = ("r_score", "f_score", "m_score", "cluster_id")


@dataclass(frozen=True)
class CustomerProfile:
    """Everything the warehouse holds about one customer for one published day."""

    customer_id: str
    as_of: date
    identities: list[dict[str, Any]]
    golden: dict[str, Any]
    published: dict[str, Any]
    tags: list[tuple[str, str, str]]
    # the probabilistic links among its records with their waterfalls (None: no match evidence stored)
    links: list[LinkWaterfall] | None = field(default_factory=list)
    # its audiences of the day: audience, holdout, entered_on, offered_on (the channel of today's offer)
    audiences: list[dict[str, Any]] = field(default_factory=list)


def resolve_customer(wh: Warehouse, key: str) -> str:
    """The customer id of key: a customer id, or a source record written 'source:source_id'."""
    if wh.scalar("select count(*) from core.identity_map where customer_id = ?", [key]):
        return key
    source, _, source_id = key.partition(":")
    if source_id:
        found = wh.scalar(
            "select any_value(customer_id) from core.identity_map where source = ? and source_id = ?",
            [source, source_id],
        )
        if found:
            return found
    raise DataError(
        f"no customer {key!r} in the warehouse: give a customer id (C + 16 hex digits) "
        "or a source record as source:source_id"
    )


def customer_profile(wh: Warehouse, key: str, as_of: date | None = None) -> CustomerProfile:
    """The profile of the customer key names, with the segments published for as_of (default: the latest)."""
    customer_id = resolve_customer(wh, key)
    as_of = as_of or wh.scalar(
        "select max(as_of) from published.customer_segments where customer_id = ?", [customer_id]
    )
    published = wh.dicts(
        "select * exclude (run_id) from published.customer_segments where as_of = ? and customer_id = ?",
        [as_of, customer_id],
    )
    if not published:
        raise DataError(f"customer {customer_id} has no published segments as of {as_of}")
    identities = wh.dicts(
        "select source, source_id, match_rule, match_score, first_seen from core.identity_map "
        "where customer_id = ? order by source, source_id",
        [customer_id],
    )
    golden = wh.dicts("select * from core.customers where customer_id = ?", [customer_id])
    tags = []
    if wh.table_exists("published.customer_tags"):
        tags = wh.rows(
            "select tag, tag_zh, value from published.customer_tags where as_of = ? and customer_id = ? "
            "order by tag, value",
            [as_of, customer_id],
        )
    links = customer_waterfalls(wh, customer_id) if len(identities) > 1 else []
    audiences = []
    if wh.table_exists("published.audience_members") and wh.table_exists("published.outreach"):
        audiences = wh.select("published/customer_audiences", {"as_of": as_of, "customer_id": customer_id})
    return CustomerProfile(
        customer_id, as_of, identities, golden[0] if golden else {}, published[0], tags, links, audiences
    )


def _lines(pairs: list[tuple[str, Any]]) -> list[str]:
    width = max((len(name) for name, _ in pairs), default=0)
    return [f"  {name:<{width}}  {'' if value is None else value}" for name, value in pairs]


def merge_lines(profile: CustomerProfile) -> list[str]:
    """How a customer's records were merged: by exact keys, and each probabilistic link's waterfall."""
    if len(profile.identities) < 2:
        return []
    lines = ["", "How the records were merged:"]
    exact = [i for i in profile.identities if str(i["match_rule"]).startswith("exact:")]
    if exact:
        lines.append(
            "  by exact keys (a shared email, phone, national id or device id; no match weights): "
            + ", ".join(f"{i['source']}:{i['source_id']} ({i['match_rule']})" for i in exact)
        )
    if profile.links is None:
        lines.append("  (no match evidence stored: the last dedupe run predates it)")
        return lines
    for link in profile.links:
        first, second = link.records
        lines.append(
            f"  by a probabilistic link {first} ~ {second} ({link.rule}): match weights in bits, from the prior"
        )
        lines += waterfall_lines(link.steps)
        lines.append(
            f"    match weight {link.match_weight:+.2f}, "
            f"match probability {probability_text(link.match_probability)}"
        )
    return lines


# The predict stage's published columns (expected_purchases_<N>d, predicted_value_<N>d by prefix).
PREDICTION_COLUMNS = ("churn_risk", "risk_tier", "risk_tier_zh", "p_alive")
PREDICTION_PREFIXES = ("expected_purchases_", "predicted_value_")


def render_profile(profile: CustomerProfile) -> str:
    """The profile as plain text sections for the terminal."""
    row = profile.published
    shown = {"as_of", "customer_id", *SCORE_COLUMNS, *(c for cols in SEGMENT_HEADINGS for c in cols[:2])}
    lines = [f"Customer {profile.customer_id} as of {profile.as_of}", "", "Identities (source records):"]
    lines += [
        f"  {i['source']}:{i['source_id']}  matched by {i['match_rule']}"
        + (f", first seen {i['first_seen']}" if i["first_seen"] else "")
        for i in profile.identities
    ]
    lines += merge_lines(profile)
    lines += ["", "Golden record:"]
    lines += _lines([(k, v) for k, v in profile.golden.items() if k != "customer_id"])
    lines += ["", "Segments:"]
    lines += _lines(
        [
            (
                heading,
                f"{row.get(en) or ''} / {row.get(zh) or ''}" if row.get(en) or row.get(zh) else "(none)",
            )
            for en, zh, heading in SEGMENT_HEADINGS
        ]
        + [("R, F, M scores", rfm_scores(row))]
        + [("cluster id", row.get("cluster_id"))]
    )
    predicted = [k for k in row if k in PREDICTION_COLUMNS or k.startswith(PREDICTION_PREFIXES)]
    lines += ["", "Predictions (预测, the next days named in the columns):"]
    lines += _lines([(k, v) for k, v in row.items() if k in predicted]) if predicted else ["  (none)"]
    lines += ["", "Audiences (受众) and recommendations (推荐):"]
    lines += [
        f"  {a['audience']}: {'held out (对照组, never contacted)' if a['holdout'] else 'treated'}, "
        f"since {a['entered_on']}" + (f", offered today on {a['offered_on']}" if a["offered_on"] else "")
        for a in profile.audiences
    ] or ["  (in no audience)"]
    lines += [f"  recommended: {row.get('recommended_items') or '(none)'}"]
    shown.add("recommended_items")
    lines += ["", "Features:"]
    lines += _lines([(k, v) for k, v in row.items() if k not in shown and k not in predicted])
    lines += ["", "Tags (客户标签):"]
    lines += [f"  {tag_zh} ({tag})  {value}" for tag, tag_zh, value in profile.tags] or ["  (none)"]
    return "\n".join(lines) + "\n"


def rfm_scores(row: dict[str, Any]) -> str:
    """The customer's R, F and M scores, or why there are none (scores rank customers with a purchase)."""
    scores = [row.get(f"{part}_score") for part in "rfm"]
    if all(score is None for score in scores):
        return "(none: no purchase as of this day)"
    return ", ".join(str(score) for score in scores)
