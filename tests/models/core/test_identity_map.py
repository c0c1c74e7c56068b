"""Model tests of core/identity_map: each record's customer id from its cluster."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from tasks.dedupe.graph import link_records
from tasks.dedupe.ids import assign_customer_ids
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import T0, create, customer_id, local, observations

COMPONENT_COLUMNS = (
    "record_source varchar, record_id varchar, component bigint, first_seen timestamptz, match_rule varchar, "
    "match_score double"
)


def run_identity_map(wh: Warehouse, components: Sequence[tuple]) -> list[tuple]:
    """identity_map as dedupe_all builds it: ids assigned by tasks.dedupe.ids (whose state persists in wh).

    components: (record_source, record_id, component, first_seen, match_rule); the score is 1.0 for
    an exact rule and null for a singleton, as tasks.dedupe.graph.link_records gives it.
    """
    scored = [(*row, None if row[4] == "singleton" else 1.0) for row in components]
    create(wh, "record_components", COMPONENT_COLUMNS, scored, temp=True)
    assigned = assign_customer_ids(wh, wh.frame("select * from record_components"), date(2026, 3, 1), "test")
    wh.write_frame("record_components", assigned, temp=True)
    wh.build("core.identity_map", "core/identity_map")
    return wh.rows(
        "select source, source_id, customer_id, match_rule, match_score, cluster_size, first_seen "
        "from core.identity_map order by source, source_id"
    )


def test_identity_map_customer_id_comes_from_the_earliest_record(wh: Warehouse) -> None:
    jan3, jan5 = local(date(2026, 1, 3)), local(date(2026, 1, 5))
    rows = run_identity_map(
        wh,
        [
            # cluster 0: m2 and p9 tie on first_seen; source 'crm' sorts before 'pay'
            ("crm", "m1", 0, jan5, "exact:email"),
            ("crm", "m2", 0, jan3, "exact:email"),
            ("pay", "p9", 0, jan3, "exact:phone"),
            # cluster 1: a record without first_seen counts as known since the beginning
            ("crm", "m3", 1, local(date(2025, 1, 1)), "exact:device_id"),
            ("game", "d1", 1, None, "exact:device_id"),
            # cluster 2: same time and source: the ids compare as text ('m10' < 'm7')
            ("web", "m7", 2, jan3, "exact:email"),
            ("web", "m10", 2, jan3, "exact:email"),
            # cluster 3: a singleton
            ("survey", "s1", 3, jan5, "singleton"),
        ],
    )
    assert rows == [
        ("crm", "m1", customer_id("crm", "m2"), "exact:email", 1.0, 3, jan5),
        ("crm", "m2", customer_id("crm", "m2"), "exact:email", 1.0, 3, jan3),
        (
            "crm",
            "m3",
            customer_id("game", "d1"),
            "exact:device_id",
            1.0,
            2,
            local(date(2025, 1, 1)),
        ),
        ("game", "d1", customer_id("game", "d1"), "exact:device_id", 1.0, 2, None),
        ("pay", "p9", customer_id("crm", "m2"), "exact:phone", 1.0, 3, jan3),
        ("survey", "s1", customer_id("survey", "s1"), "singleton", None, 1, jan5),
        ("web", "m10", customer_id("web", "m10"), "exact:email", 1.0, 2, jan3),
        ("web", "m7", customer_id("web", "m10"), "exact:email", 1.0, 2, jan3),
    ]


def test_identity_map_id_survives_a_later_record_joining(wh: Warehouse) -> None:
    jan1, jan5, feb1 = local(date(2026, 1, 1)), local(date(2026, 1, 5)), local(date(2026, 2, 1))
    first = run_identity_map(
        wh, [("crm", "m1", 0, jan1, "exact:email"), ("pay", "p1", 0, jan5, "exact:email")]
    )
    # the next run: component numbers are arbitrary and a later record joins the cluster
    second = run_identity_map(
        wh,
        [
            ("crm", "m1", 5, jan1, "exact:email"),
            ("pay", "p1", 5, jan5, "exact:email"),
            ("web", "w1", 5, feb1, "exact:phone"),
        ],
    )
    anchor = customer_id("crm", "m1")
    assert [(r[0], r[1], r[2]) for r in first] == [("crm", "m1", anchor), ("pay", "p1", anchor)]
    assert [(r[0], r[1], r[2]) for r in second] == [
        ("crm", "m1", anchor),
        ("pay", "p1", anchor),
        ("web", "w1", anchor),
    ]


def test_identity_map_merged_clusters_keep_the_older_anchor(wh: Warehouse) -> None:
    jan2, jan10, jan12 = (local(date(2026, 1, d)) for d in (2, 10, 12))
    feb1 = local(date(2026, 2, 1))
    first = run_identity_map(
        wh,
        [
            ("crm", "m1", 0, jan10, "exact:email"),
            ("crm", "m2", 0, jan12, "exact:email"),
            ("pay", "p1", 1, jan2, "singleton"),
        ],
    )
    assert [(r[0], r[1], r[2]) for r in first] == [
        ("crm", "m1", customer_id("crm", "m1")),
        ("crm", "m2", customer_id("crm", "m1")),
        ("pay", "p1", customer_id("pay", "p1")),
    ]
    # a new record links both clusters: the one whose anchor was seen first (p1) keeps its id
    second = run_identity_map(
        wh,
        [
            ("crm", "m1", 0, jan10, "exact:email"),
            ("crm", "m2", 0, jan12, "exact:email"),
            ("pay", "p1", 0, jan2, "exact:phone"),
            ("web", "w1", 0, feb1, "exact:email"),
        ],
    )
    merged = customer_id("pay", "p1")
    assert [(r[0], r[1], r[2], r[5]) for r in second] == [
        ("crm", "m1", merged, 4),
        ("crm", "m2", merged, 4),
        ("pay", "p1", merged, 4),
        ("web", "w1", merged, 4),
    ]


def test_linked_records_feed_identity_map(wh: Warehouse) -> None:
    result = link_records(
        observations(
            [
                ("crm", "b", "a@x.com", None, None, T0 + timedelta(days=2)),
                ("pay", "a", "a@x.com", None, None, T0 + timedelta(days=1)),
                ("web", "c", None, None, None, T0),
            ]
        ),
        max_key_records=20,
    ).records
    wh.write_frame("record_components", assign_customer_ids(wh, result, date(2026, 3, 1), "test"), temp=True)
    wh.build("core.identity_map", "core/identity_map")
    assert wh.rows(
        "select source, source_id, customer_id, match_rule, match_score, cluster_size from core.identity_map "
        "order by all"
    ) == [
        ("crm", "b", customer_id("pay", "a"), "exact:email", 1.0, 2),
        ("pay", "a", customer_id("pay", "a"), "exact:email", 1.0, 2),
        ("web", "c", customer_id("web", "c"), "singleton", None, 1),
    ]
