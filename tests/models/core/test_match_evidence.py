"""Model tests of core/match_parameters, core/match_links and core/match_evidence on hand-written inputs."""

from __future__ import annotations

from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

PARAMETERS = (
    "comparison varchar, position integer, kind varchar, attribute varchar, term_frequency boolean, "
    "level tinyint, label varchar, m double, u double"
)
LINK = "source_a varchar, id_a varchar, source_b varchar, id_b varchar"


def parameters(wh: Warehouse) -> None:
    """A prior of 1/5 and two comparisons: city (term frequencies, three levels) and gender (two)."""
    create(
        wh,
        "_match_parameters",
        PARAMETERS,
        [
            ("prior", 0, None, None, False, None, "two records at random", 0.2, 0.8),
            ("city", 1, "place", "city", True, 0, "different", 0.125, 0.5),
            ("city", 1, "place", "city", True, 1, "similarity >= 0.88", 0.125, 0.25),
            ("city", 1, "place", "city", True, 2, "exact", 0.75, 0.25),
            ("gender", 2, "exact", "gender", False, 0, "different", 0.25, 0.5),
            ("gender", 2, "exact", "gender", False, 1, "exact", 0.75, 0.5),
        ],
        temp=True,
    )


def test_match_parameters_weighs_each_level_log2_m_over_u(wh: Warehouse) -> None:
    parameters(wh)
    wh.build("core.match_parameters", "core/match_parameters")
    assert wh.rows("select comparison, level, label, match_weight from core.match_parameters") == [
        ("prior", None, "two records at random", -2.0),  # log2 of the prior odds 1:4
        ("city", 0, "different", -2.0),
        ("city", 1, "similarity >= 0.88", -1.0),
        ("city", 2, "exact", 1.584962500721156),
        ("gender", 0, "different", -1.0),
        ("gender", 1, "exact", 0.5849625007211562),
    ]


def test_match_links_keeps_every_link_with_whether_it_was_used(wh: Warehouse) -> None:
    create(
        wh,
        "_match_links",
        f"{LINK}, match_probability double, match_weight double, rule varchar, used boolean",
        [
            ("web", "w1", "crm", "m2", 0.95, 4.25, "probabilistic:city", False),
            ("crm", "m1", "web", "w1", 0.99, 6.5, "probabilistic:city", True),
        ],
        temp=True,
    )
    wh.build("core.match_links", "core/match_links")
    assert wh.rows("select * from core.match_links") == [
        ("crm", "m1", "web", "w1", 0.99, 6.5, "probabilistic:city", True),
        ("web", "w1", "crm", "m2", 0.95, 4.25, "probabilistic:city", False),
    ]


def test_match_evidence_labels_each_step_and_marks_term_frequency_weights(wh: Warehouse) -> None:
    parameters(wh)
    wh.build("core.match_parameters", "core/match_parameters")
    create(
        wh,
        "_match_evidence",
        f"{LINK}, comparison varchar, level tinyint, match_weight double",
        [
            # city exact on a rare value (its own frequency, not u), gender missing on a side
            ("crm", "m1", "web", "w1", "gender", -1, 0.0),
            ("crm", "m1", "web", "w1", "city", 2, 4.5),
            ("crm", "m1", "web", "w1", "prior", None, -2.0),
            # city close but not equal (its level's weight), gender exact (no term frequencies)
            ("crm", "m1", "crm", "m2", "prior", None, -2.0),
            ("crm", "m1", "crm", "m2", "city", 1, -1.0),
            ("crm", "m1", "crm", "m2", "gender", 1, 0.5849625007211562),
        ],
        temp=True,
    )
    wh.build("core.match_evidence", "core/match_evidence")
    assert wh.rows(
        "select id_b, comparison, position, level, label, term_frequency_adjusted, match_weight "
        "from core.match_evidence"
    ) == [
        ("m2", "prior", 0, None, "two records at random", False, -2.0),
        ("m2", "city", 1, 1, "similarity >= 0.88", False, -1.0),
        ("m2", "gender", 2, 1, "exact", False, 0.5849625007211562),
        ("w1", "prior", 0, None, "two records at random", False, -2.0),
        ("w1", "city", 1, 2, "exact", True, 4.5),
        ("w1", "gender", 2, -1, "missing on a side", False, 0.0),
    ]
