"""Stability report: how each scheme's segments moved since the previous published as_of.

For every scheme: the adjusted Rand index (sklearn) between the previous and the current segments of
the customers present in both days, how many of them changed segment (and who: segments.segment_moves),
and each segment's size on both days (all customers of each day).
"""

import json
from dataclasses import asdict, dataclass
from datetime import date

import polars as pl
from sklearn.metrics import adjusted_rand_score

from tasks.shared.contracts import SCHEME_COLUMNS
from tasks.shared.warehouse import Warehouse

NONE = "(none)"  # a missing value (e.g. no rule segment) is a segment of its own


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


def scheme_stability(scheme: str, previous: pl.DataFrame, current: pl.DataFrame) -> SchemeStability:
    """Stability of one scheme from two (customer_id, segment) frames, previous and current."""
    previous = previous.select("customer_id", pl.col("segment").cast(pl.String).fill_null(NONE))
    current = current.select("customer_id", pl.col("segment").cast(pl.String).fill_null(NONE))
    both = previous.join(current, on="customer_id", suffix="_now")
    # integer labels (the index does not depend on what the labels are), not a million Python strings
    labels = both.select(pl.col("segment", "segment_now").rank("dense"))
    ari = (
        round(float(adjusted_rand_score(labels["segment"].to_numpy(), labels["segment_now"].to_numpy())), 6)
        if both.height
        else None
    )
    before = dict(previous.group_by("segment").len().iter_rows())
    after = dict(current.group_by("segment").len().iter_rows())
    sizes = [
        SizeChange(name, before.get(name, 0), after.get(name, 0), after.get(name, 0) - before.get(name, 0))
        for name in sorted(before.keys() | after.keys())
    ]
    changed = both.filter(pl.col("segment") != pl.col("segment_now")).height
    return SchemeStability(scheme, ari, both.height, changed, sizes)


def changed_customers(scheme: str, previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """(scheme, customer_id, previous, current) of the customers in both frames whose segment changed."""
    both = previous.join(current, on="customer_id", suffix="_now").with_columns(
        pl.col("segment").cast(pl.String).fill_null(NONE),
        pl.col("segment_now").cast(pl.String).fill_null(NONE),
    )
    return both.filter(pl.col("segment") != pl.col("segment_now")).select(
        pl.lit(scheme).alias("scheme"),
        "customer_id",
        pl.col("segment").alias("previous"),
        pl.col("segment_now").alias("current"),
    )


def previous_published_day(wh: Warehouse, as_of: date) -> date | None:
    """The latest as_of published before as_of (what stability and membership changes compare with), if any."""
    if not wh.table_exists("published.customer_segments"):
        return None
    return wh.scalar("select max(as_of) from published.customer_segments where as_of < ?", [as_of])


def compare_with_previous(wh: Warehouse, as_of: date) -> tuple[date | None, list[SchemeStability]]:
    """Stability of every scheme of segments.customer_segments against the latest published day before as_of.

    Also replaces segments.segment_moves: one row per customer and scheme whose segment changed.
    """
    changes = [
        pl.DataFrame(schema=dict.fromkeys(("scheme", "customer_id", "previous", "current"), pl.String))
    ]
    previous_day = previous_published_day(wh, as_of)
    if previous_day is None:
        wh.write_frame("segments.segment_moves", changes[0])
        return None, []
    published = set(wh.columns("published.customer_segments"))
    # a column an older model version did not have is not compared
    compared = {scheme: column for scheme, column in SCHEME_COLUMNS.items() if column in published}
    columns = ", ".join(["customer_id", *compared.values()])
    previous_all = wh.frame(
        f"select {columns} from published.customer_segments where as_of = ?", [previous_day]
    )
    current_all = wh.frame(f"select {columns} from segments.customer_segments")
    results = []
    for scheme, column in compared.items():
        previous = previous_all.select("customer_id", pl.col(column).alias("segment"))
        current = current_all.select("customer_id", pl.col(column).alias("segment"))
        results.append(scheme_stability(scheme, previous, current))
        changes.append(changed_customers(scheme, previous, current))
    wh.write_frame("segments.segment_moves", pl.concat(changes))
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
