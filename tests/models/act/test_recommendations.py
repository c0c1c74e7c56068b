"""Model tests of the recommendation models: interactions, item similarity, popularity, lists, metrics."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from tasks.features.customer_activity import play_epoch
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, create, local, roll_up

AS_OF = date(2026, 3, 31)
CUTOFF = datetime(2026, 4, 1, tzinfo=SHANGHAI)


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def weigh(wh: Warehouse, table: str, as_of: date, fit_day: date | None = None) -> list[tuple]:
    """act/interaction_summary as of as_of (half-life 10 days, a purchase counting 2) weighed from the events
    rolled up and the transactions up to the end of AS_OF, and as of fit_day (None: not); its rows' columns
    as of as_of."""
    roll_up(wh)
    params = {"as_of": as_of, "read_to": AS_OF, "cutoff": CUTOFF, "session_types": ["session"]}
    params |= {"half_life_days": 10.0, "purchase_weight": 2.0, "epoch": play_epoch(as_of, 10.0)}
    params |= {"fit_day": fit_day, "fit_epoch": fit_day and play_epoch(fit_day, 10.0)}
    wh.build(table, "act/interaction_summary", params)
    columns = "customer_id, item, affinity, plays, purchases, first_date, last_date"
    return wh.rows(f"select {columns} from {table} order by customer_id, item")


def affinities(rows: list[tuple]) -> list[tuple]:
    """Rows of act/interaction_summary with their affinity (the third column) as computed: the weights are
    counted from an epoch (tasks/features/customer_activity.py play_epoch) and scaled back to the day, so a
    sum of powers of 2 comes out within rounding of its exact value, not always exactly."""
    return [(*row[:2], pytest.approx(row[2], rel=1e-13, abs=1e-15), *row[3:]) for row in rows]


def test_interactions_decay_by_age_and_weigh_purchases(wh: Warehouse) -> None:
    """Half-life 10 days: a play today counts 1, ten days ago 0.5; a purchase counts twice a play."""
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("game", "g1", "C1"), ("shop", "s1", "C1"), ("game", "g2", "C2")],
    )
    create(
        wh,
        "core.events",
        "record_source varchar, record_id varchar, ts timestamptz, event_type varchar, category varchar, "
        "duration_s double",
        [
            ("game", "g1", local(ago(0), "23:59:59"), "session", "斗地主", 60.0),
            ("game", "g1", local(ago(10)), "session", "斗地主", 60.0),
            ("game", "g1", local(ago(20)), "session", "麻将", 60.0),
            ("game", "g1", local(ago(1)), "share", "德州扑克", None),  # not a session: not an interaction
            ("game", "g1", local(ago(1)), "session", None, 60.0),  # no category: no item
            ("game", "g1", CUTOFF, "session", "象棋", 60.0),  # at the cutoff: not yet
            ("game", "g2", local(ago(10)), "session", "斗地主", 60.0),
            ("game", "g9", local(ago(0)), "session", "斗地主", 60.0),  # a record not in identity_map
        ],
    )
    create(
        wh,
        "core.transactions",
        "record_source varchar, record_id varchar, ts timestamptz, amount decimal(18,2), status varchar, "
        "category varchar",
        [
            ("shop", "s1", local(ago(10)), 6, "paid", "麻将"),
            ("shop", "s1", local(ago(20)), 6, None, "麻将"),  # no status: paid
            ("shop", "s1", local(ago(0)), 6, "refunded", "麻将"),
            ("shop", "s1", local(ago(0)), 6, "failed", "象棋"),
            ("shop", "s1", local(ago(0)), 6, "pending", "象棋"),
            ("shop", "s1", local(ago(0)), 0, "paid", "象棋"),
            ("shop", "s1", local(ago(0)), 6, "paid", None),
        ],
    )
    assert weigh(wh, "act.interactions", AS_OF) == affinities(
        [
            ("C1", "斗地主", 1.5, 2, 0, ago(10), ago(0)),
            # a play 20 days ago (0.25), purchases 10 (2 x 0.5) and 20 days ago (2 x 0.25)
            ("C1", "麻将", 1.75, 1, 2, ago(20), ago(10)),
            ("C2", "斗地主", 0.5, 1, 0, ago(10), ago(10)),
        ]
    )


def test_interactions_add_up_a_customer_s_records(wh: Warehouse) -> None:
    """Summed per record and item first, then per customer: two records of one customer (merged) that played
    the same item on the same and on other days, and bought it, count as one customer's interactions."""
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("game", "g1", "C1"), ("game", "g2", "C1"), ("shop", "s1", "C1"), ("game", "g3", "C3")],
    )
    create(
        wh,
        "core.events",
        "record_source varchar, record_id varchar, ts timestamptz, event_type varchar, category varchar, "
        "duration_s double",
        [
            ("game", "g1", local(ago(10)), "session", "麻将", 60.0),
            ("game", "g1", local(ago(10), "20:00:00"), "session", "麻将", 60.0),  # two plays of one day
            ("game", "g2", local(ago(10)), "session", "麻将", 60.0),  # the other record, the same day
            ("game", "g2", local(ago(30)), "session", "麻将", 60.0),  # its first play, the customer's first
            ("game", "g2", local(ago(0)), "session", "斗地主", 60.0),
            ("game", "g3", local(ago(20)), "session", "麻将", 60.0),
        ],
    )
    create(
        wh,
        "core.transactions",
        "record_source varchar, record_id varchar, ts timestamptz, amount decimal(18,2), status varchar, "
        "category varchar",
        [("shop", "s1", local(ago(0)), 6, "paid", "麻将")],
    )
    assert weigh(wh, "act.interactions", AS_OF) == affinities(
        [
            ("C1", "斗地主", 1.0, 1, 0, ago(0), ago(0)),
            # three plays 10 days ago (3 x 0.5), one 30 days ago (0.125), a purchase today (2)
            ("C1", "麻将", 3.625, 4, 1, ago(30), ago(0)),
            ("C3", "麻将", 0.25, 1, 0, ago(20), ago(20)),
        ]
    )
    # as of 15 days ago, read to AS_OF: the later days give first dates only
    assert weigh(wh, "act.earlier", ago(15)) == affinities(
        [
            ("C1", "斗地主", 0.0, 0, 0, ago(0), None),
            ("C1", "麻将", 0.5**1.5, 1, 0, ago(30), ago(30)),
            ("C3", "麻将", 0.5**0.5, 1, 0, ago(20), ago(20)),
        ]
    )


def interactions(wh: Warehouse, rows: list[tuple[str, str, float]]) -> None:
    create(wh, "interactions", "customer_id varchar, item varchar, affinity double", rows, temp=True)


SHARED = [  # x: A B C, y: A B D, z: B C; x and y share A and B, x and z share B and C, y and z only B
    ("A", "x", 1.0),
    ("A", "y", 1.0),
    ("B", "x", 1.0),
    ("B", "y", 1.0),
    ("B", "z", 1.0),
    ("C", "x", 1.0),
    ("C", "z", 1.0),
    ("D", "y", 1.0),
]


@pytest.mark.parametrize(
    ("similarity", "xy", "xz"),
    [("jaccard", 2 / 4, 2 / 3), ("lift", 2 / 9, 2 / 6), ("cooccurrence", 2.0, 2.0)],
)
def test_item_similarity_from_customers_who_have_both(
    wh: Warehouse, similarity: str, xy: float, xz: float
) -> None:
    """y and z share one customer, under min_cooccurrence 2: no pair."""
    interactions(wh, SHARED)
    wh.build(
        "act.item_similarity",
        "act/item_similarity",
        {"similarity": similarity, "min_cooccurrence": 2},
        identifiers={"interactions": "interactions"},
    )
    rows = wh.rows("select * from act.item_similarity order by item, similar_item")
    assert rows == [("x", "y", 2, xy), ("x", "z", 2, xz), ("y", "x", 2, xy), ("z", "x", 2, xz)]


def test_popular_items_within_each_segment_and_overall(wh: Warehouse) -> None:
    """P4 has no segment row: counted overall only; ties go to the item name."""
    interactions(
        wh, [("P1", "x", 1.0), ("P1", "y", 1.0), ("P2", "x", 1.0), ("P3", "y", 1.0), ("P4", "z", 1.0)]
    )
    create(
        wh,
        "customers",
        "customer_id varchar, rfm_segment varchar",
        [("P1", "S"), ("P2", "S"), ("P3", "T"), ("P5", "T")],
        temp=True,
    )
    wh.build(
        "act.popular_items",
        "act/popular_items",
        identifiers={"interactions": "interactions", "customers": "customers"},
    )
    rows = wh.rows("select * from act.popular_items order by segment nulls first, rank")
    assert rows == [
        (None, "x", 2, 0.5, 1),
        (None, "y", 2, 0.5, 2),
        (None, "z", 1, 0.25, 3),
        ("S", "x", 2, 1.0, 1),
        ("S", "y", 1, 0.5, 2),
        ("T", "y", 1, 1.0, 1),
    ]


def recommend(wh: Warehouse, *, use_similarity: bool = True) -> list[tuple]:
    """Six items a-f; similar pairs a-b, b-c, c-e (0.5), a-c (0.25); d and f are like nothing."""
    interactions(
        wh,
        [
            ("U1", "a", 2.0),
            ("U1", "b", 1.0),
            ("U2", "f", 1.0),
            *[("U4", item, 1.0) for item in "abcdef"],
            ("U5", "c", 1.0),
            ("U7", "a", 1.0),
        ],
    )
    pairs = [("a", "b", 0.5), ("b", "c", 0.5), ("c", "e", 0.5), ("a", "c", 0.25)]
    create(
        wh,
        "similarity",
        "item varchar, similar_item varchar, similarity double",
        [*pairs, *[(other, item, value) for item, other, value in pairs]],
        temp=True,
    )
    create(
        wh,
        "popular",
        "segment varchar, item varchar, share double, rank bigint",
        [
            ("S", "a", 0.9, 1),
            ("S", "d", 0.8, 2),
            ("S", "c", 0.7, 3),
            ("S", "e", 0.6, 4),
            ("R", "b", 0.5, 1),
            *[(None, item, 0.6 - rank / 10, rank) for rank, item in enumerate("abfced", start=1)],
        ],
        temp=True,
    )
    create(
        wh,
        "customers",
        "customer_id varchar, rfm_segment varchar",
        [("U1", "S"), ("U2", "T"), ("U3", None), ("U4", "S"), ("U5", "S"), ("U7", "R")],
        temp=True,
    )
    wh.build(
        "act.recommendations",
        "act/recommendations",
        {"top_k": 3, "use_similarity": use_similarity},
        identifiers={
            "interactions": "interactions",
            "similarity": "similarity",
            "popular": "popular",
            "customers": "customers",
        },
    )
    return wh.rows(
        "select customer_id, rank, item, round(score, 6), source from act.recommendations order by 1, 2"
    )


def test_recommendations_similar_first_then_popular_in_segment_then_overall(wh: Warehouse) -> None:
    assert recommend(wh) == [
        # c: 2 x 0.25 (from a) + 1 x 0.5 (from b); a is popular in S but U1 has it
        ("U1", 1, "c", 1.0, "similar"),
        ("U1", 2, "d", 0.8, "popular_in_segment"),
        ("U1", 3, "e", 0.6, "popular_in_segment"),
        # f is like nothing, and T has no popularity of its own: overall, without f (U2 has it)
        ("U2", 1, "a", 0.5, "popular"),
        ("U2", 2, "b", 0.4, "popular"),
        ("U2", 3, "c", 0.2, "popular"),
        # no items, no segment
        ("U3", 1, "a", 0.5, "popular"),
        ("U3", 2, "b", 0.4, "popular"),
        ("U3", 3, "f", 0.3, "popular"),
        # U4 has had everything: no rows. U5: b and e tie at 0.5, b first by name
        ("U5", 1, "b", 0.5, "similar"),
        ("U5", 2, "e", 0.5, "similar"),
        ("U5", 3, "a", 0.25, "similar"),
        # R's only popular item b is already similar; the third place comes from overall popularity
        ("U7", 1, "b", 0.5, "similar"),
        ("U7", 2, "c", 0.25, "similar"),
        ("U7", 3, "f", 0.3, "popular"),
    ]


def test_the_popularity_baseline_uses_no_similarity(wh: Warehouse) -> None:
    rows = recommend(wh, use_similarity=False)
    assert [row for row in rows if row[0] == "U5"] == [
        ("U5", 1, "a", 0.9, "popular_in_segment"),
        ("U5", 2, "d", 0.8, "popular_in_segment"),
        ("U5", 3, "e", 0.6, "popular_in_segment"),
    ]
    assert {row[4] for row in rows} == {"popular", "popular_in_segment"}


def test_truth_is_the_items_first_had_after_the_fit_day(wh: Warehouse) -> None:
    create(
        wh,
        "interactions",
        "customer_id varchar, item varchar, first_date date",
        [("U1", "a", ago(31)), ("U1", "b", ago(30)), ("U1", "c", ago(29)), ("U2", "a", ago(0))],
        temp=True,
    )
    wh.build(
        "act.truth",
        "act/recommendation_truth",
        {"since": ago(30)},
        identifiers={"interactions": "interactions"},
    )
    assert wh.rows("select * from act.truth order by 1, 2") == [("U1", "c"), ("U2", "a")]


def test_interactions_read_past_as_of_give_the_later_items_only_a_first_date(wh: Warehouse) -> None:
    """An evaluation reads its fit (as of 30 days ago) and its truth in one pass, up to the end of AS_OF."""
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("game", "g1", "C1")],
    )
    create(
        wh,
        "core.events",
        "record_source varchar, record_id varchar, ts timestamptz, event_type varchar, category varchar, "
        "duration_s double",
        [
            ("game", "g1", local(ago(40)), "session", "a", 60.0),
            ("game", "g1", local(ago(1)), "session", "a", 60.0),  # after the fit day: not counted for a
            ("game", "g1", local(ago(2)), "session", "b", 60.0),  # first had after the fit day
            ("game", "g1", CUTOFF, "session", "c", 60.0),  # at the cutoff: not read
        ],
    )
    create(
        wh,
        "core.transactions",
        "record_source varchar, record_id varchar, ts timestamptz, amount decimal(18,2), status varchar, "
        "category varchar",
        [],
    )
    assert weigh(wh, "act.earlier", ago(30)) == affinities(
        [
            ("C1", "a", 0.5, 1, 0, ago(40), ago(40)),
            ("C1", "b", 0.0, 0, 0, ago(2), None),
        ]
    )
    # one read weighed as of AS_OF (what the day's recommendations are built from) and as of the fit day
    assert weigh(wh, "act.interactions", AS_OF, fit_day=ago(30)) == affinities(
        [
            ("C1", "a", 0.5**0.1 + 0.5**4, 2, 0, ago(40), ago(1)),
            ("C1", "b", 0.5**0.2, 1, 0, ago(2), ago(2)),
        ]
    )
    fit_columns = "customer_id, item, fit_affinity, fit_plays, fit_purchases, first_date, fit_last_date"
    assert wh.rows(f"select {fit_columns} from act.interactions order by 1, 2") == affinities(
        [
            ("C1", "a", 0.5, 1, 0, ago(40), ago(40)),
            ("C1", "b", 0.0, 0, 0, ago(2), None),
        ]
    )
    # the evaluation's fit rows (weighed as of the fit day) and its truth, from the same interactions
    wh.build(
        "act.fit",
        "act/recommend_fit_interactions",
        {"since": ago(30)},
        identifiers={"interactions": "act.interactions"},
    )
    assert wh.rows("select * from act.fit") == affinities([("C1", "a", 0.5, 1, 0, ago(40), ago(40))])
    wh.build(
        "act.truth",
        "act/recommendation_truth",
        {"since": ago(30)},
        identifiers={"interactions": "act.interactions"},
    )
    assert wh.rows("select * from act.truth") == [("C1", "b")]
    # without a fit day the fit_ columns are null, the others the same
    assert weigh(wh, "act.today", AS_OF) == weigh(wh, "act.interactions", AS_OF, fit_day=ago(30))
    assert wh.rows("select count(*) from act.today where coalesce(fit_affinity, fit_plays) is not null") == [
        (0,)
    ]


def test_the_truth_sample_keeps_all_items_of_the_customers_it_takes(wh: Warehouse) -> None:
    rows = [("U1", "a"), ("U1", "b"), ("U2", "a"), ("U3", "c")]
    create(wh, "truth", "customer_id varchar, item varchar", rows, temp=True)
    wh.build("act.sample", "act/recommend_truth_sample", {"users": 2}, identifiers={"truth": "truth"})
    sampled = wh.rows("select * from act.sample order by 1, 2")
    assert len({customer for customer, _ in sampled}) == 2
    assert sampled == [row for row in rows if row[0] in {customer for customer, _ in sampled}]
    wh.build("act.sample", "act/recommend_truth_sample", {"users": 100}, identifiers={"truth": "truth"})
    assert wh.rows("select * from act.sample order by 1, 2") == rows


def test_metrics_at_k(wh: Warehouse) -> None:
    """k = 2. U1 hits at rank 1 of 2 relevant, U2 at rank 2 of 1, U3 has no list; U4 took up nothing."""
    create(
        wh,
        "recommendations",
        "customer_id varchar, rank bigint, item varchar",
        [("U1", 1, "p"), ("U1", 2, "q"), ("U1", 3, "r"), ("U2", 1, "s"), ("U2", 2, "t"), ("U4", 1, "v")],
        temp=True,
    )
    create(
        wh,
        "truth",
        "customer_id varchar, item varchar",
        [("U1", "p"), ("U1", "r"), ("U2", "t"), ("U3", "u")],
        temp=True,
    )
    interactions(wh, [("X", item, 1.0) for item in "pqrstuvw"])
    [row] = wh.select(
        "act/recommendation_metrics",
        {"model": "m", "top_k": 2},
        identifiers={"recommendations": "recommendations", "truth": "truth", "interactions": "interactions"},
    )
    discount = 1 / math.log2(3)
    assert row == {
        "model": "m",
        "k": 2,
        "users": 3,
        "precision": pytest.approx((0.5 + 0.5 + 0) / 3),
        "recall": pytest.approx((0.5 + 1 + 0) / 3),
        # U1: 1 / (1 + 1/log2 3); U2: (1/log2 3) / 1; U3: 0
        "ndcg": pytest.approx((1 / (1 + discount) + discount) / 3),
        # p, q, s, t of 8 items (r is past k, v went to a customer who took up nothing)
        "coverage": 0.5,
    }
