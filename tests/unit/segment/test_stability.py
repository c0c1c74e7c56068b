"""The stability report's pure parts: adjusted Rand index, changed customers, size changes."""

import polars as pl

from tasks.segment.stability import SizeChange, changed_customers, scheme_stability


def frame(rows: list[tuple[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"customer_id": pl.String, "segment": pl.String}, orient="row")


PREVIOUS = frame([("c0", "a"), ("c1", "a"), ("c2", "a"), ("c3", "b"), ("c4", "b")])
CURRENT = frame([("c1", "x"), ("c2", "x"), ("c3", "y"), ("c4", None), ("c5", "y")])


def test_ari_on_the_customers_of_both_days_and_sizes_on_all() -> None:
    result = scheme_stability("s", PREVIOUS, CURRENT)
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
    same = frame([("c0", "b"), ("c1", "b"), ("c2", "b"), ("c3", "a"), ("c4", "a")])
    result = scheme_stability("s", PREVIOUS, same)
    assert (result.ari, result.changed) == (1.0, 5)
    unchanged = scheme_stability("s", PREVIOUS, PREVIOUS)
    assert (unchanged.ari, unchanged.changed, {s.change for s in unchanged.sizes}) == (1.0, 0, {0})


def test_no_common_customers_has_no_ari() -> None:
    result = scheme_stability("s", frame([("c9", "a")]), CURRENT)
    assert (result.ari, result.customers_compared, result.changed) == (None, 0, 0)


def test_changed_customers_lists_who_moved() -> None:
    changed = changed_customers("cluster", PREVIOUS, CURRENT.filter(pl.col("customer_id") != "c1"))
    assert changed.sort("customer_id").rows() == [
        ("cluster", "c2", "a", "x"),
        ("cluster", "c3", "b", "y"),
        ("cluster", "c4", "b", "(none)"),
    ]
