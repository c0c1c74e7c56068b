"""Clusters: k choice, determinism, stable ids across runs, new ids for new groups, names, the tree, storage."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from tasks.segment.cluster_tables import cluster_customers, previous_clusters
from tasks.segment.clusters import (
    FEATURES,
    INACTIVE_CAP,
    Centroid,
    PreviousClusters,
    feature_matrix,
    fit_clusters,
    match_ids,
    sample_rows,
)
from tasks.segment.naming import cluster_name, unique_name
from tasks.shared.config import SegmentConfig
from tasks.shared.warehouse import Warehouse

# Profiles in original units: inactive_days, frequency, monetary, payments_90d, sessions_90d, session_minutes_90d
WHALES = (3, 30, 20000, 12, 80, 4000)
REGULARS = (20, 4, 300, 2, 25, 700)
FREE_PLAYERS = (10, 0, 0, 0, 40, 900)
DORMANT = (300, 1, 20, 0, 0, 0)
NEWCOMERS = (1, 80, 200000, 60, 300, 30000)  # a group far from all of the above


def blobs(profiles: list[tuple], sizes: list[int], seed: int = 0, spread: float = 0.1) -> np.ndarray:
    """Customers scattered around profiles (multiplicative noise in log space, like real skewed data)."""
    rng = np.random.default_rng(seed)
    # a zero stays zero: a customer without a purchase has no orders, not a fraction of one
    parts = [
        np.expm1(np.log1p(np.array(profile, dtype=float)) + rng.normal(0, spread, (size, len(FEATURES))))
        * (np.array(profile) > 0)
        for profile, size in zip(profiles, sizes, strict=True)
    ]
    return np.clip(np.vstack(parts), 0, None)


FOUR = [WHALES, REGULARS, FREE_PLAYERS, DORMANT]
SIZES = [100, 400, 300, 200]


def previous_of(model, as_of: date = date(2026, 1, 1)) -> PreviousClusters:
    """What the next run reads back: this run's centroids and the next free id."""
    return PreviousClusters(as_of, tuple(model.centroids), max(c.cluster_id for c in model.centroids) + 1)


def test_silhouette_picks_the_number_of_separated_groups() -> None:
    config = SegmentConfig(cluster_k="silhouette", cluster_k_min=2, cluster_k_max=7)
    three = fit_clusters(blobs(FOUR[:3], SIZES[:3]), config)
    four = fit_clusters(blobs(FOUR, SIZES), config)
    assert (three.k, four.k) == (3, 4)
    assert sorted(four.k_scores) == [2, 3, 4, 5, 6, 7]
    assert max(four.k_scores, key=four.k_scores.get) == 4
    assert four.silhouette == four.k_scores[4]


def test_fixed_k_is_used_as_configured() -> None:
    model = fit_clusters(blobs(FOUR, SIZES), SegmentConfig(clusters=5))
    assert (model.k, model.k_method, model.k_scores, len(model.centroids)) == (5, "fixed", {}, 5)
    assert sum(c.size for c in model.centroids) == sum(SIZES)


def test_first_run_ids_follow_spend_and_names_follow_the_profile() -> None:
    model = fit_clusters(blobs(FOUR, SIZES), SegmentConfig())
    # log1p-standardized population means: monetary 3.9 (e^3.9 = 49), days inactive 3.2 (24 days), …
    assert [(c.cluster_id, c.size, c.name_en, c.name_zh) for c in model.centroids] == [
        (0, 100, "high-spending recently active customers", "高消费近期活跃客户"),  # WHALES
        # REGULARS: 300 is high next to everyone (the free players spend 0), average among the purchasers
        (1, 400, "typical customers", "普通客户"),
        (2, 200, "90-day non-paying long-inactive customers", "近90天未付费久未活跃客户"),  # DORMANT
        (3, 300, "non-paying recently active customers", "未付费近期活跃客户"),  # FREE_PLAYERS
    ]
    assert model.centroids[0].values["monetary"] == pytest.approx(20000, rel=0.05)
    assert model.centroids[3].values["monetary"] < 1


def test_same_data_gives_the_same_model() -> None:
    data = blobs(FOUR, SIZES)
    first, second = fit_clusters(data, SegmentConfig()), fit_clusters(data.copy(), SegmentConfig())
    assert np.array_equal(first.labels, second.labels)
    assert first.centroids == second.centroids
    assert (first.tree_rules, first.fidelity, first.silhouette) == (
        second.tree_rules,
        second.fidelity,
        second.silhouette,
    )


@pytest.mark.parametrize("fit_sample", [200_000, 1_000])
def test_the_order_of_the_customers_does_not_change_the_model(fit_sample: int) -> None:
    # two warehouses holding the same customers read them in different orders (their stable ids
    # differ): the fit, its sample and its silhouette sample must not depend on that order
    data = blobs([*FOUR, NEWCOMERS], [2 * size for size in SIZES] + [100], spread=0.6)
    shuffled = np.random.default_rng(5).permutation(len(data))
    config = SegmentConfig(
        cluster_k="silhouette", cluster_fit_sample_size=fit_sample, cluster_sample_size=300
    )
    first, second = fit_clusters(data, config), fit_clusters(data[shuffled], config)
    assert np.array_equal(first.labels[shuffled], second.labels)
    assert first.centroids == second.centroids
    assert (first.k_scores, first.silhouette, first.inertia, first.tree_rules, first.fidelity) == (
        second.k_scores,
        second.silhouette,
        second.inertia,
        second.tree_rules,
        second.fidelity,
    )


def test_ids_and_names_survive_slightly_shifted_data() -> None:
    config = SegmentConfig()
    before = fit_clusters(blobs(FOUR, SIZES, seed=1), config)
    # the next day: other customers, 5% noise on every value, groups of somewhat different sizes
    shifted = blobs(FOUR, [110, 380, 320, 190], seed=2) * np.random.default_rng(3).uniform(
        0.95, 1.05, (1000, 6)
    )
    after = fit_clusters(shifted, config, previous_of(before))
    assert [(c.cluster_id, c.name_en, c.name_zh) for c in after.centroids] == [
        (c.cluster_id, c.name_en, c.name_zh) for c in before.centroids
    ]
    assert [c.size for c in after.centroids] == [110, 380, 190, 320]
    assert all(c.distance_to_previous is not None and c.distance_to_previous < 0.3 for c in after.centroids)
    assert after.previous_as_of == date(2026, 1, 1)


def test_a_new_group_gets_a_new_id_and_the_others_keep_theirs() -> None:
    config = SegmentConfig(cluster_k="silhouette", cluster_k_min=2, cluster_k_max=6)
    before = fit_clusters(blobs(FOUR, SIZES), config)
    previous = PreviousClusters(date(2026, 1, 1), tuple(before.centroids), next_id=7)  # ids 4-6 used long ago
    after = fit_clusters(blobs([*FOUR, NEWCOMERS], [*SIZES, 150], seed=5), config, previous)
    assert after.k == 5
    old = [(c.cluster_id, c.name_en) for c in before.centroids]
    assert [(c.cluster_id, c.name_en) for c in after.centroids[:4]] == old
    new = after.centroids[4]
    assert (new.cluster_id, new.size, new.distance_to_previous) == (7, 150, None)
    # its first two words are cluster 0's: a third word (its next most distinctive feature) tells them apart
    assert (new.name_en, new.name_zh) == (
        "high-spending recently active 90-day paying customers",
        "高消费近期活跃近90天付费客户",
    )


def test_a_vanished_group_frees_no_id_for_reuse() -> None:
    before = fit_clusters(blobs(FOUR, SIZES), SegmentConfig())
    after = fit_clusters(blobs(FOUR[:3], SIZES[:3]), SegmentConfig(clusters=3), previous_of(before))
    # DORMANT (id 2) is gone; the other three keep their ids
    assert [c.cluster_id for c in after.centroids] == [0, 1, 3]
    again = fit_clusters(blobs(FOUR, SIZES, seed=9), SegmentConfig(), previous_of(after))
    assert [c.cluster_id for c in again.centroids] == [0, 1, 3, 4]  # DORMANT is back, but as a new cluster


def test_match_ids_uses_the_cheapest_assignment_within_the_distance() -> None:
    current = np.array([[0.0, 0.0], [5.0, 5.0], [0.9, 0.0]])
    previous = np.array([[1.0, 0.0], [5.2, 5.0], [0.0, 0.1]])
    ids, distances = match_ids(
        current, previous, [10, 11, 12], next_id=20, max_distance=0.5, new_order=[0, 1, 2]
    )
    # greedy would give row 0 to id 12 (0.1) and row 2 to id 10 (0.1); Hungarian minimises the total too
    assert ids == [12, 11, 10]
    assert distances == [0.1, 0.2, 0.1]
    far = match_ids(current, previous, [10, 11, 12], next_id=20, max_distance=0.15, new_order=[1, 0, 2])
    assert far == ([12, 20, 10], [0.1, None, 0.1])
    assert match_ids(current, np.zeros((0, 2)), [], next_id=3, max_distance=1, new_order=[2, 1, 0]) == (
        [5, 4, 3],
        [None, None, None],
    )


@pytest.mark.parametrize(
    ("z", "monetary", "names"),
    [
        (
            {"frequency": 1.2, "monetary": 0.5, "sessions_90d": 0.6},
            500,
            ("high-spending often-playing customers", "高消费常玩客户"),
        ),
        (
            {"frequency": 1.2, "monetary": 0.49, "inactive_days": -0.5},
            500,
            ("frequent recently active customers", "高频近期活跃客户"),
        ),
        (
            {"monetary": 2.0, "inactive_days": 1.5, "sessions_90d": -1.0},
            900,
            ("high-spending long-inactive customers", "高消费久未活跃客户"),
        ),
        (
            {"payments_90d": -0.5, "session_minutes_90d": -0.6},
            10,
            ("90-day non-paying short-playing customers", "近90天未付费短时游戏客户"),
        ),
        (
            {"monetary": -1.0, "inactive_days": -0.8},
            0.5,
            ("non-paying recently active customers", "未付费近期活跃客户"),
        ),
        ({"frequency": 0.49, "sessions_90d": -0.49}, 50, ("typical customers", "普通客户")),
        ({"sessions_90d": -0.7}, 50, ("rarely playing customers", "少玩客户")),
    ],
)
def test_cluster_names(z: dict[str, float], monetary: float, names: tuple[str, str]) -> None:
    profile = dict.fromkeys(FEATURES, 0.0) | z
    assert cluster_name(profile, {"monetary": monetary}) == names


def test_names_that_are_taken_get_more_words_then_the_id() -> None:
    z = dict.fromkeys(FEATURES, 0.0) | {
        "monetary": 1.0,
        "inactive_days": -1.0,
        "sessions_90d": 2.0,
        "frequency": 0.6,
    }
    money = {"monetary": 800}
    assert unique_name(z, money, set(), 4) == (
        "high-spending recently active customers",
        "高消费近期活跃客户",
    )
    taken = {"high-spending recently active customers"}
    assert unique_name(z, money, taken, 4) == (
        "high-spending recently active often-playing customers",
        "高消费近期活跃常玩客户",
    )
    taken |= {"高消费近期活跃常玩客户", "高消费近期活跃常玩高频客户"}
    assert unique_name(z, money, taken, 4) == (
        "high-spending recently active customers (4)",
        "高消费近期活跃客户(4)",
    )
    assert cluster_name(z, money, extra=3) is None


def test_the_tree_explains_the_clusters_in_original_units() -> None:
    model = fit_clusters(blobs(FOUR, SIZES), SegmentConfig())
    assert model.fidelity == 1.0  # well separated groups: three splits tell them apart exactly
    lines = model.tree_rules.splitlines()
    assert lines[0].startswith("|--- ") and any(f in lines[0] for f in FEATURES)
    for c in model.centroids:
        assert f"class: {c.cluster_id} {c.name_en}" in model.tree_rules
    # thresholds are in original units (money in currency, not standardized logs)
    thresholds = [float(line.split()[-1]) for line in lines if "monetary" in line]
    assert all(t > 5 for t in thresholds)


def test_tree_fidelity_is_the_share_of_customers_it_places_in_their_cluster() -> None:
    noisy = blobs(FOUR, SIZES, spread=0.9)
    model = fit_clusters(noisy, SegmentConfig(clusters=6))
    assert 0.5 < model.fidelity < 1.0


def test_sample_rows_are_deterministic_and_bounded() -> None:
    assert sample_rows(5, 10, 0).tolist() == [0, 1, 2, 3, 4]
    first = sample_rows(1000, 100, 7)
    assert len(first) == 100 and len(set(first.tolist())) == 100 and np.all(np.diff(first) > 0)
    assert np.array_equal(first, sample_rows(1000, 100, 7))


def test_a_large_population_is_fitted_on_a_sample_and_assigned_in_full() -> None:
    data = blobs(FOUR, [1000, 4000, 3000, 2000])
    model = fit_clusters(data, SegmentConfig(cluster_fit_sample_size=2000))
    assert (model.fitted_rows, len(model.labels)) == (2000, 10000)
    assert sorted(c.size for c in model.centroids) == [1000, 2000, 3000, 4000]


def test_degenerate_inputs() -> None:
    assert fit_clusters(np.zeros((0, 6)), SegmentConfig()).centroids == []
    one = fit_clusters(np.ones((3, 6)), SegmentConfig(cluster_k="silhouette"))
    assert (one.k, [c.size for c in one.centroids], one.labels.tolist()) == (1, [3], [0, 0, 0])
    assert one.silhouette is None
    # as many distinct customers as clusters: each its own cluster, and no silhouette (it needs k < n)
    four = fit_clusters(np.array([[i, i, 10**i, 0, i, i] for i in range(4)], dtype=float), SegmentConfig())
    assert (four.k, sorted(c.size for c in four.centroids), four.silhouette) == (4, [1, 1, 1, 1], None)


def test_feature_matrix_reads_nulls_and_refunds_as_zero() -> None:
    frame = pl.DataFrame(
        {
            "inactive_days": [5],
            "frequency": [None],
            "monetary": [-30.0],
            "payments_90d": [1],
            "sessions_90d": [2],
        }
        | {"session_minutes_90d": [None]}
    )
    assert feature_matrix(frame).tolist() == [[5.0, 0.0, 0.0, 1.0, 2.0, 0.0]]


def features_table(wh: Warehouse, data: np.ndarray) -> None:
    """features.customer_features with the columns clustering reads; inactive_days from last_active_date."""
    wh.execute(
        "create or replace table features.customer_features (customer_id varchar, last_active_date date, "
        "first_seen_date date, frequency bigint, monetary decimal(18,2), payments_90d bigint, "
        "sessions_90d bigint, session_minutes_90d bigint)"
    )
    frame = pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(len(data))],
            "days": data[:, 0].round().astype(int),
            **{f: data[:, i].round() for i, f in enumerate(FEATURES) if i},
        }
    )
    wh.con.register("_rows", frame)
    wh.execute(
        "insert into features.customer_features select customer_id, date '2026-03-31' - days::integer, null, "
        "frequency, monetary, payments_90d, sessions_90d, session_minutes_90d from _rows"
    )
    wh.con.unregister("_rows")


def test_stored_models_chain_by_as_of_and_reruns_replace() -> None:
    wh = Warehouse(":memory:")
    config = SegmentConfig()
    features_table(wh, blobs(FOUR, SIZES))
    first = cluster_customers(wh, config, date(2026, 3, 31), "run-a").model
    features_table(wh, blobs(FOUR, SIZES, seed=4))
    # fitted again (refit), so the second day's ids are matched with the first day's centroids
    second = cluster_customers(wh, config, date(2026, 4, 2), "run-b", refit=True).model
    again = cluster_customers(wh, config, date(2026, 4, 2), "run-c", refit=True).model  # a rerun replaces it
    assert wh.rows("select as_of, run_id, previous_as_of, k from segments.cluster_models order by 1") == [
        (date(2026, 3, 31), "run-a", None, 4),
        (date(2026, 4, 2), "run-c", date(2026, 3, 31), 4),
    ]
    assert wh.scalar("select count(*) from segments.cluster_centroids") == 8
    assert [c.cluster_id for c in second.centroids] == [c.cluster_id for c in first.centroids] == [0, 1, 2, 3]
    assert again.centroids == second.centroids
    # a backfilled day in between compares with the latest day before it
    between = previous_clusters(wh, date(2026, 4, 1))
    assert (between.as_of, between.next_id, len(between.centroids)) == (date(2026, 3, 31), 4, 4)
    assert between.centroids[0] == Centroid(
        0, first.centroids[0].name_en, first.centroids[0].name_zh, 100, first.centroids[0].values
    )
    assert wh.rows(
        "select cluster_id, count(*), any_value(cluster_name) from segments.clusters group by 1 order by 1"
    ) == [(c.cluster_id, c.size, c.name_en) for c in again.centroids]
    wh.close()


def test_the_sql_writes_out_the_model_features_in_order() -> None:
    wh = Warehouse(":memory:")
    features_table(wh, blobs(FOUR, SIZES))
    inputs = wh.frame(
        wh.model_sql("segments/cluster_inputs", fragments={"shard": "true"}),
        {"as_of": date(2026, 3, 31), "inactive_cap": INACTIVE_CAP},
    )
    assert inputs.columns == ["customer_id", *FEATURES]
    wh.ensure("segments/cluster_centroids")
    assert wh.columns("segments.cluster_centroids")[6:] == list(FEATURES)
    wh.close()


def test_an_extra_word_is_not_one_a_cluster_of_the_same_first_words_stands_out_on_more() -> None:
    # two high-spending clusters without an activity word (Online Retail's): one of 10 orders, one of 4
    many = dict.fromkeys(FEATURES, 0.0) | {"monetary": 1.5, "frequency": 1.6, "payments_90d": 1.8}
    some = dict.fromkeys(FEATURES, 0.0) | {"monetary": 1.0, "frequency": 0.8}
    money = {"monetary": 800}
    taken = {"high-spending customers", "高消费客户"}
    # alone, the cluster of 4 orders would be "frequent" (its second word), beside the cluster of 10
    assert unique_name(some, money, taken, 1) == ("high-spending frequent customers", "高消费高频客户")
    assert unique_name(some, money, set(), 1, rivals=[many]) == ("high-spending customers", "高消费客户")
    assert unique_name(some, money, taken, 1, rivals=[many]) == (
        "high-spending customers (1)",
        "高消费客户(1)",
    )
    # the cluster of 10 orders may take the words it stands out on more
    assert unique_name(many, money, taken, 0, rivals=[some]) == (
        "high-spending 90-day paying customers",
        "高消费近90天付费客户",
    )
