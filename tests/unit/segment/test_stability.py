"""The stability report's pure part: adjusted Rand index, changed customers and sizes from a scheme's pairs."""

from tasks.segment.stability import SizeChange, scheme_stability

# Previous day: c0 a, c1 a, c2 a, c3 b, c4 b. Current day: c1 x, c2 x, c3 y, c4 (none), c5 y.
PAIRS = [("a", None, 1), ("a", "x", 2), ("b", "y", 1), ("b", "(none)", 1), (None, "y", 1)]


def test_ari_on_the_customers_of_both_days_and_sizes_on_all() -> None:
    result = scheme_stability("s", PAIRS)
    # c1..c4: previous a a b b, current x x y (none). Pairs agreeing: 1 of C(4,2) = 6;
    # ARI = (1 - 2·1/6) / ((2 + 1)/2 - 2·1/6) = 4/7
    assert (result.ari, result.customers_compared, result.changed) == (0.571429, 4, 4)
    assert result.sizes == [
        SizeChange("(none)", 0, 1, 1),
        SizeChange("a", 3, 0, -3),
        SizeChange("b", 2, 0, -2),
        SizeChange("x", 0, 2, 2),
        SizeChange("y", 0, 2, 2),
    ]


def test_renamed_but_identical_partitions_have_ari_one_yet_count_as_changed() -> None:
    # c0..c2 a -> b, c3 and c4 b -> a
    result = scheme_stability("s", [("a", "b", 3), ("b", "a", 2)])
    assert (result.ari, result.changed) == (1.0, 5)
    unchanged = scheme_stability("s", [("a", "a", 3), ("b", "b", 2)])
    assert (unchanged.ari, unchanged.changed, {s.change for s in unchanged.sizes}) == (1.0, 0, {0})


def test_no_common_customers_has_no_ari() -> None:
    result = scheme_stability("s", [("a", None, 1), (None, "x", 2)])
    assert (result.ari, result.customers_compared, result.changed) == (None, 0, 0)
    assert result.sizes == [SizeChange("a", 1, 0, -1), SizeChange("x", 0, 2, 2)]


def _labels(pairs: list[tuple[str, str, int]]) -> tuple[list[str], list[str]]:
    """One (previous, current) label per customer, as many customers as each pair counts."""
    previous = [p for p, _, n in pairs for _ in range(n)]
    current = [c for _, c, n in pairs for _ in range(n)]
    return previous, current


def test_ari_from_the_counts_equals_sklearn_on_the_customers_labels_exactly() -> None:
    import random

    from sklearn.metrics import adjusted_rand_score

    rng = random.Random(7)
    tables = [
        [("a", "a", 1)],
        [("a", "b", 1), ("b", "a", 1)],
        [("a", "x", 2), ("b", "y", 1), ("b", "(none)", 1)],
        [("a", "a", 5), ("a", "b", 5)],
    ]
    for _ in range(30):
        segments = [f"s{i}" for i in range(rng.randint(1, 8))]
        tables.append(
            [(p, c, rng.randint(1, 3000)) for p in segments for c in segments if rng.random() < 0.6]
            or [(segments[0], segments[0], 3)]
        )
    for pairs in tables:
        previous, current = _labels(pairs)
        expected = round(float(adjusted_rand_score(previous, current)), 6)
        assert scheme_stability("s", pairs).ari == expected, pairs


def test_ari_of_pairs_listed_twice_counts_them_together() -> None:
    assert scheme_stability("s", [("a", "x", 2), ("a", "x", 1), ("b", "y", 3)]).ari == 1.0
    assert (
        scheme_stability("s", [("a", "x", 1), ("a", "x", 1), ("a", "y", 2), ("b", "y", 2)]).ari
        == scheme_stability("s", [("a", "x", 2), ("a", "y", 2), ("b", "y", 2)]).ari
    )
