"""The customer profile (tasks/publish/profile.py): how a customer's records were merged, link waterfalls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tasks.dedupe.explain import LinkWaterfall, Step
from tasks.publish.profile import CustomerProfile, customer_profile, render_profile
from tasks.shared.warehouse import Warehouse
from tests.unit.dedupe.match_world import AS_OF, build_world, world_config


def profile(identities: list[dict], links: list[LinkWaterfall] | None) -> CustomerProfile:
    return CustomerProfile("C1", date(2026, 1, 1), identities, {}, {"customer_id": "C1"}, [], links)


def identity(source: str, source_id: str, rule: str) -> dict:
    return {
        "source": source,
        "source_id": source_id,
        "match_rule": rule,
        "match_score": 1.0,
        "first_seen": None,
    }


def section(text: str) -> list[str]:
    """The lines of the 'How the records were merged' section."""
    lines = text.splitlines()
    start = lines.index("How the records were merged:")
    return lines[start : lines.index("Golden record:", start) - 1]


def test_the_profile_names_exact_merges_and_draws_each_links_waterfall() -> None:
    steps = [
        Step("prior", None, "two records at random", -2.0, -2.0),
        Step("city", 2, "exact", 5.5, 3.5, term_frequency_adjusted=True),
        Step("gender", -1, "missing on a side", 0.0, 3.5),
    ]
    link = LinkWaterfall(("crm:m1", "web:w2"), 0.9186938124, 3.5, "probabilistic:city", steps)
    text = render_profile(
        profile(
            [
                identity("crm", "m1", "exact:email"),
                identity("web", "w1", "exact:email"),
                identity("web", "w2", "probabilistic:city"),
            ],
            [link],
        )
    )
    assert section(text) == [
        "How the records were merged:",
        "  by exact keys (a shared email, phone, national id or device id; no match weights): "
        "crm:m1 (exact:email), web:w1 (exact:email)",
        "  by a probabilistic link crm:m1 ~ web:w2 (probabilistic:city): match weights in bits, from the prior",
        "    comparison  level                   weight  total",
        "    prior       two records at random    -2.00  -2.00",
        "    city        exact (term frequency)   +5.50  +3.50",
        "    gender      missing on a side        +0.00  +3.50",
        "    match weight +3.50, match probability 0.918694",
    ]


def test_a_single_record_has_no_merge_section_and_old_warehouses_say_why_there_is_no_waterfall() -> None:
    alone = render_profile(profile([identity("crm", "m1", "singleton")], []))
    assert "How the records were merged:" not in alone
    old = render_profile(
        profile([identity("crm", "m1", "exact:phone"), identity("web", "w1", "exact:phone")], None)
    )
    assert section(old)[-1] == "  (no match evidence stored: the last dedupe run predates it)"


@pytest.fixture(scope="module")
def world() -> Iterator[Warehouse]:
    """The dedupe world of tests/unit/dedupe/match_world.py, with a published row for every customer."""
    with Warehouse(":memory:") as wh:
        build_world(wh, world_config())
        wh.execute(
            "create table published.customer_segments as select customer_id, ?::date as as_of, 'r1' as run_id, "
            "'Champions' as rfm_segment from core.customers",
            [AS_OF],
        )
        yield wh


def test_the_profile_of_a_customer_merged_by_a_link_shows_its_stored_waterfall(world: Warehouse) -> None:
    loaded = customer_profile(world, "web:w2")
    assert [(i["source"], i["source_id"]) for i in loaded.identities] == [("crm", "m4"), ("web", "w2")]
    assert loaded.links is not None and [link.records for link in loaded.links] == [("crm:m4", "web:w2")]
    stored = world.rows(
        "select comparison, label, match_weight from core.match_evidence where id_b = 'w2' order by position"
    )
    (link,) = loaded.links
    assert [(s.comparison, s.label, s.match_weight) for s in link.steps] == stored
    assert link.steps[-1].total == pytest.approx(link.match_weight, abs=1e-9)
    lines = section(render_profile(loaded))
    assert lines[1] == (
        "  by a probabilistic link crm:m4 ~ web:w2 (probabilistic:name_dob_address): "
        "match weights in bits, from the prior"
    )
    assert lines[2].split() == ["comparison", "level", "weight", "total"]
    assert [line.split()[0] for line in lines[3:-1]] == [row[0] for row in stored]
    assert lines[4].split()[:4] == ["given", "similarity", ">=", "0.92"]
    assert (
        lines[-1]
        == f"    match weight {link.match_weight:+.2f}, match probability {link.match_probability:.6f}"
    )


def test_the_profile_of_an_exact_merge_names_it_and_any_link_among_its_records(world: Warehouse) -> None:
    loaded = customer_profile(world, "crm:m3")
    lines = section(render_profile(loaded))
    assert lines[1] == (
        "  by exact keys (a shared email, phone, national id or device id; no match weights): "
        "crm:m3 (exact:email), web:w1 (exact:email)"
    )
    assert lines[2].startswith("  by a probabilistic link crm:m3 ~ web:w1 ")


def test_the_profile_shows_the_predictions_apart_from_the_features() -> None:
    published = {
        "customer_id": "C1",
        "recency_days": 30,
        "churn_risk": 0.7934,
        "risk_tier": "high",
        "risk_tier_zh": "高",
        "p_alive": 0.5697,
        "expected_purchases_90d": 0.425,
        "predicted_value_90d": 51.44,
        "favourite_game": "跑得快",
    }
    shown = CustomerProfile("C1", date(2026, 1, 1), [], {}, published, [], None)
    lines = render_profile(shown).splitlines()
    start = lines.index("Predictions (预测, the next days named in the columns):")
    assert lines[start + 1 : lines.index("Features:")] == [
        "  churn_risk              0.7934",
        "  risk_tier               high",
        "  risk_tier_zh            高",
        "  p_alive                 0.5697",
        "  expected_purchases_90d  0.425",
        "  predicted_value_90d     51.44",
        "",
        "Audiences (受众) and recommendations (推荐):",
        "  (in no audience)",
        "  recommended: (none)",
        "",
    ]
    features = lines[lines.index("Features:") + 1 : lines.index("Tags (客户标签):") - 1]
    assert features == ["  recency_days    30", "  favourite_game  跑得快"]


def test_the_profile_shows_audiences_holdouts_and_recommendations() -> None:
    published = {"customer_id": "C1", "recency_days": 3, "recommended_items": "麻将,象棋"}
    audiences = [
        {"audience": "churn_rescue", "holdout": False, "entered_on": date(2025, 12, 20), "offered_on": "sms"},
        {"audience": "vip", "holdout": True, "entered_on": date(2025, 12, 31), "offered_on": None},
    ]
    shown = CustomerProfile("C1", date(2026, 1, 1), [], {}, published, [], None, audiences)
    lines = render_profile(shown).splitlines()
    start = lines.index("Audiences (受众) and recommendations (推荐):")
    assert lines[start + 1 : lines.index("Features:")] == [
        "  churn_rescue: treated, since 2025-12-20, offered today on sms",
        "  vip: held out (对照组, never contacted), since 2025-12-31",
        "  recommended: 麻将,象棋",
        "",
    ]
    assert lines[lines.index("Features:") + 1] == "  recency_days  3"


def test_the_profile_says_why_a_customer_without_a_purchase_has_no_rfm_scores() -> None:
    def scores(published: dict) -> str:
        shown = CustomerProfile("C1", date(2026, 1, 1), [], {}, {"customer_id": "C1", **published}, [], None)
        (line,) = [line for line in render_profile(shown).splitlines() if "R, F, M scores" in line]
        return line.split("R, F, M scores", 1)[1].strip()

    assert scores({"r_score": None, "f_score": None, "m_score": None}) == "(none: no purchase as of this day)"
    assert scores({"r_score": 5, "f_score": 1, "m_score": 3}) == "5, 1, 3"
