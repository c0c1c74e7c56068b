"""Stability report: how each scheme's segments moved since the previous published as_of.

For every scheme: the adjusted Rand index (as sklearn computes it) between the previous and the current segments of
the customers present in both days, how many of them changed segment (and who: segments.segment_moves),
and each segment's size on both days (all customers of each day).
"""

import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date

import polars as pl

from tasks.shared.contracts import SCHEME_COLUMNS
from tasks.shared.warehouse import Warehouse

# segments.segment_moves: who moved, in which scheme, from and to which segment
MOVE_COLUMNS = ("scheme", "customer_id", "previous", "current")


@dataclass(frozen=True)
class SizeChange:
    """One segment's size on the previous and the current day."""

    segment: str
    previous: int
    current: int
    change: int


@dataclass(frozen=True)
class SchemeStability:
    """How one scheme's segments moved between two days."""

    scheme: str
    ari: float | None
    customers_compared: int
    changed: int
    sizes: list[SizeChange]


Pair = tuple[str | None, str | None, int]  # (previous segment, current segment, customers)


def adjusted_rand_index(both: list[Pair]) -> float | None:
    """The index of the customers of both days, from the pairs' counts (None without such customers).

    The index depends on the contingency table only (the counts of each pair of segments), so it is
    computed from the counts, in integers, as scikit-learn's adjusted_rand_score computes it from one
    label per customer (its pair confusion matrix, then the same float expression): the same value,
    without expanding a million labels per scheme (about 1 s of CPU each at 1M customers).
    """
    if not both:
        return None
    table: Counter[tuple[str | None, str | None]] = Counter()
    for previous, current, n in both:
        table[(previous, current)] += int(n)
    rows: Counter[str | None] = Counter()
    columns: Counter[str | None] = Counter()
    for (previous, current), n in table.items():
        rows[previous] += n
        columns[current] += n
    customers = sum(table.values())
    sum_squares = sum(n * n for n in table.values())
    # sklearn.metrics.pair_confusion_matrix: (tn, fp), (fn, tp)
    tp = sum_squares - customers
    fp = sum(n * n for n in columns.values()) - sum_squares
    fn = sum(n * n for n in rows.values()) - sum_squares
    tn = customers * customers - fp - fn - sum_squares
    if fn == 0 and fp == 0:  # full agreement
        return 1.0
    return round(2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)), 6)


def scheme_stability(scheme: str, pairs: list[Pair]) -> SchemeStability:
    """Stability of one scheme from its segment pairs (segments/scheme_pairs).

    previous or current is None for the customers of one day only: they count in that day's sizes.
    """
    both = [pair for pair in pairs if pair[0] is not None and pair[1] is not None]
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for previous, current, n in pairs:
        before.update({previous: n} if previous is not None else {})
        after.update({current: n} if current is not None else {})
    sizes = [
        SizeChange(name, before[name], after[name], after[name] - before[name])
        for name in sorted(before.keys() | after.keys())
    ]
    compared = sum(n for *_, n in both)
    changed = sum(n for previous, current, n in both if previous != current)
    return SchemeStability(scheme, adjusted_rand_index(both), compared, changed, sizes)


def previous_published_day(wh: Warehouse, as_of: date) -> date | None:
    """The latest as_of published before as_of (what stability and membership changes compare with), if any."""
    if not wh.table_exists("published.customer_segments"):
        return None
    return wh.scalar("select max(as_of) from published.customer_segments where as_of < ?", [as_of])


def compare_with_previous(wh: Warehouse, as_of: date) -> tuple[date | None, list[SchemeStability]]:
    """Stability of every scheme of segments.customer_segments against the latest published day before as_of.

    Also replaces segments.segment_moves: one row per customer and scheme whose segment changed. Both days
    are joined once (segments/segment_pairs), then each scheme's pairs are counted.
    """
    wh.write_frame("segments.segment_moves", pl.DataFrame(schema=dict.fromkeys(MOVE_COLUMNS, pl.String)))
    previous_day = previous_published_day(wh, as_of)
    if previous_day is None:
        return None, []
    published = set(wh.columns("published.customer_segments"))
    # a column an older model version did not have is not compared
    compared = {scheme: column for scheme, column in SCHEME_COLUMNS.items() if column in published}
    wh.build(
        "_segment_pairs",
        "segments/segment_pairs",
        {"previous_as_of": previous_day, "columns": list(compared.values())},
        temp=True,
    )
    results = []
    for scheme, column in compared.items():
        pairs = wh.rows(wh.model_sql("segments/scheme_pairs", {"column": column}))
        result = scheme_stability(scheme, pairs)
        # no insert of no rows: in a DuckDB 2.0 transaction it can hide rows a later insert appends
        if result.changed:
            wh.insert(
                "segments.segment_moves",
                "segments/segment_moves",
                {"scheme": scheme},
                identifiers={"column": column},
            )
        results.append(result)
    wh.execute("drop table _segment_pairs")
    return previous_day, results


def store_stability(
    wh: Warehouse, as_of: date, previous_day: date | None, results: list[SchemeStability]
) -> None:
    """Replace the as_of's rows of segments.stability (one row per scheme; sizes as JSON)."""
    wh.ensure("segments/stability")
    with wh.transaction():
        wh.execute("delete from segments.stability where as_of = ?", [as_of])
        for r in results:
            wh.execute(
                "insert into segments.stability values (?, ?, ?, ?, ?, ?, ?)",
                [
                    as_of,
                    previous_day,
                    r.scheme,
                    r.ari,
                    r.customers_compared,
                    r.changed,
                    json.dumps([asdict(s) for s in r.sizes], ensure_ascii=False),
                ],
            )


def stability_summary(previous_day: date | None, results: list[SchemeStability]) -> dict:
    """The stability part of the run summary."""
    return {
        "previous_as_of": previous_day.isoformat() if previous_day else None,
        "schemes": [
            {
                "scheme": r.scheme,
                "ari": r.ari,
                "customers_compared": r.customers_compared,
                "changed": r.changed,
                "size_changes": [asdict(s) for s in r.sizes if s.change],
            }
            for r in results
        ],
    }
