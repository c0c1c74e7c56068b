"""Model tests of core/match_waterfall (one customer's links, step by step) and core/match_pair."""

from __future__ import annotations

import pytest

from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

LINK = "source_a varchar, id_a varchar, source_b varchar, id_b varchar"


@pytest.fixture
def evidence(wh: Warehouse) -> Warehouse:
    """Customer C1: crm:m1, web:w1, web:w2; C2: crm:m2. Links m1~w1 (used), w1~w2 (left out by one to one),
    m1~m2 (across customers: a cluster re-split)."""
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("crm", "m1", "C1"), ("web", "w1", "C1"), ("web", "w2", "C1"), ("crm", "m2", "C2")],
    )
    create(
        wh,
        "core.match_links",
        f"{LINK}, match_probability double, match_weight double, rule varchar, used boolean",
        [
            ("crm", "m1", "web", "w1", 0.9375, 3.9068905956085187, "probabilistic:city", True),
            ("web", "w1", "web", "w2", 0.96, 4.5, "probabilistic:city", False),
            ("crm", "m1", "crm", "m2", 0.97, 5.0, "probabilistic:city", True),
        ],
    )
    rows = []
    for link in (("crm", "m1", "web", "w1"), ("web", "w1", "web", "w2"), ("crm", "m1", "crm", "m2")):
        rows += [
            (*link, "prior", 0, None, "two records at random", False, -2.0),
            (*link, "city", 1, 2, "exact", True, 5.5),
            (*link, "gender", 2, 1, "exact", False, 0.4068905956085187),
        ]
    create(
        wh,
        "core.match_evidence",
        f"{LINK}, comparison varchar, position integer, level tinyint, label varchar, "
        "term_frequency_adjusted boolean, match_weight double",
        rows,
    )
    return wh


def test_match_waterfall_runs_the_total_through_one_customers_used_links(evidence: Warehouse) -> None:
    rows = evidence.rows(
        "select source_a, id_a, source_b, id_b, link_probability, link_weight, comparison, label, "
        "match_weight, running_weight from (" + evidence.model_sql("core/match_waterfall") + ")",
        {"customer_id": "C1"},
    )
    link = ("crm", "m1", "web", "w1", 0.9375, 3.9068905956085187)
    assert rows == [
        (*link, "prior", "two records at random", -2.0, -2.0),
        (*link, "city", "exact", 5.5, 3.5),
        (*link, "gender", "exact", 0.4068905956085187, 3.9068905956085187),  # the link's match weight
    ]
    # m2's only link is across customers
    assert evidence.select("core/match_waterfall", {"customer_id": "C2"}) == []


def test_match_pair_names_each_records_customer_and_the_link_between_them(evidence: Warehouse) -> None:
    def pair(a: tuple[str, str], b: tuple[str, str]) -> dict:
        return evidence.select(
            "core/match_pair", {"source_a": a[0], "id_a": a[1], "source_b": b[0], "id_b": b[1]}
        )[0]

    assert pair(("web", "w1"), ("crm", "m1")) == {"customer_a": "C1", "customer_b": "C1", "link_used": True}
    assert pair(("web", "w1"), ("web", "w2")) == {"customer_a": "C1", "customer_b": "C1", "link_used": False}
    assert pair(("crm", "m2"), ("web", "w2")) == {"customer_a": "C2", "customer_b": "C1", "link_used": None}
    assert pair(("crm", "m9"), ("web", "w2")) == {"customer_a": None, "customer_b": "C1", "link_used": None}
