"""Backfilling a day before published days: the later days are recomputed against their new neighbours."""

from datetime import timedelta
from pathlib import Path

import pytest

from flows.backfill import backfill
from flows.daily_refresh import daily_refresh
from tasks.publish.republish import MEMBERSHIP_COLUMNS
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END
from tests.e2e.test_stage_artifacts import artifacts_of

pytestmark = pytest.mark.e2e

DAY = [SAMPLE_END - timedelta(days=n) for n in (3, 2, 1, 0)]  # d0 < d1 < d2 < d3


def day_rows(config: Path, as_of) -> dict[str, list[tuple]]:
    """A published day's memberships and membership changes, without run ids."""
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return {
            "segments": wh.rows(
                "select * exclude (run_id) from published.customer_segments where as_of = ? order by customer_id",
                [as_of],
            ),
            "changes": wh.rows(
                "select * from published.segment_changes where as_of = ? order by all", [as_of]
            ),
        }


def memberships(config: Path, as_of) -> dict[str, tuple]:
    """A published day's memberships by customer id, in the columns of tasks/publish/republish.py."""
    with Warehouse.open(load_config(config), read_only=True) as wh:
        rows = wh.rows(
            f"select customer_id, {', '.join(MEMBERSHIP_COLUMNS)} from published.customer_segments where as_of = ?",
            [as_of],
        )
    return {row[0]: row[1:] for row in rows}


def moved_between(before: dict[str, tuple], after: dict[str, tuple]) -> dict[str, int]:
    """Customers published only once or with other memberships; then per column, customers in both."""
    both = before.keys() & after.keys()
    moved = {"customers": len(before.keys() ^ after.keys()) + sum(before[c] != after[c] for c in both)}
    for k, column in enumerate(MEMBERSHIP_COLUMNS):
        moved[column] = sum(before[c][k] != after[c][k] for c in both)
    return moved


def text(moved: dict[str, int]) -> str:
    """The backfill table's text of moved counts: customers, then the columns that moved, most first."""
    columns = sorted((-n, c) for c, n in moved.items() if c != "customers" and n)
    detail = ", ".join(f"{c} {-n:,}" for n, c in columns)
    return f"{moved['customers']:,} customers" + (f" ({detail})" if detail else "")


def renamed(one: dict[str, list[tuple]], other: dict[str, list[tuple]]) -> set[str]:
    """The customer ids of the segments of one day_rows that the other does not have."""
    return {row[1] for row in one["segments"]} ^ {row[1] for row in other["segments"]}


def without(rows: dict[str, list[tuple]], ids: set[str]) -> dict[str, list[tuple]]:
    """day_rows without the segment rows' customer ids, and without the changes of customers in ids."""
    return {
        "segments": sorted((row[:1] + row[2:] for row in rows["segments"]), key=repr),
        "changes": [
            row for row in rows["changes"] if row[3] not in ids
        ],  # (as_of, scheme, segment, customer_id, ...)
    }


def test_a_backfill_before_published_days_recomputes_them_like_a_run_in_order(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    in_order, gap_filled = make_config(sample_data), make_config(sample_data)
    assert backfill(start=DAY[0], end=DAY[3], config=str(in_order)) == [d.isoformat() for d in DAY]

    daily_refresh(as_of=DAY[0], config=str(gap_filled))
    daily_refresh(as_of=DAY[3], config=str(gap_filled))
    assert {previous for *_, previous in day_rows(gap_filled, DAY[3])["changes"]} == {DAY[0]}

    # d1 and d2 fill the gap; d3, published before them, follows
    done = backfill(start=DAY[1], end=DAY[2], config=str(gap_filled))
    assert done == [DAY[1].isoformat(), DAY[2].isoformat(), DAY[3].isoformat()]
    later = day_rows(gap_filled, DAY[3])
    assert {previous for *_, previous in later["changes"]} == {DAY[2]}
    assert later == day_rows(in_order, DAY[3])
    assert day_rows(gap_filled, DAY[1]) == day_rows(in_order, DAY[1])


def test_a_backfill_before_the_first_published_day_recomputes_it_like_a_run_in_order(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    # the first published day fitted every model and gave the first cluster ids; days before it are
    # backfilled later: they fit in order, and that day follows them, scored as a run in order would
    in_order, backfilled = make_config(sample_data), make_config(sample_data)
    assert backfill(start=DAY[0], end=DAY[3], config=str(in_order)) == [d.isoformat() for d in DAY]

    daily_refresh(as_of=DAY[3], config=str(backfilled))
    first, first_memberships = day_rows(backfilled, DAY[3]), memberships(backfilled, DAY[3])
    state = backfill(start=DAY[0], end=DAY[2], config=str(backfilled), return_state=True)
    done = state.result()

    assert done == [d.isoformat() for d in DAY]
    assert without(day_rows(backfilled, DAY[3]), set()) != without(first, set())  # its first run's own fits
    # the backfill's table says whose memberships moved on the day published before, counted here apart
    moved = moved_between(first_memberships, memberships(backfilled, DAY[3]))
    assert moved["customers"] > 0
    table = artifacts_of(state.state_details.flow_run_id)["backfill-days"]
    assert table == [
        {"as_of": d.isoformat(), "status": "computed", "memberships moved": ""} for d in DAY[:3]
    ] + [
        {
            "as_of": DAY[3].isoformat(),
            "status": "recomputed (follows a backfilled day)",
            "memberships moved": text(moved),
        }
    ]
    # the same rows every day, but for customer ids: an id the first run of DAY[3] issued stays the
    # customer's when the days before it are backfilled (README, Stable ids), where a run in order gave the
    # customer another id first; such customers' membership changes differ by that id
    days = {day: (day_rows(backfilled, day), day_rows(in_order, day)) for day in DAY}
    ids = set().union(*(renamed(*rows) for rows in days.values()))
    assert len(ids) < 0.01 * len(days[DAY[3]][1]["segments"])
    for gap_filled, ordered in days.values():
        assert without(gap_filled, ids) == without(ordered, ids)
    with Warehouse.open(load_config(backfilled), read_only=True) as wh:
        fits = wh.rows("select fit_day from segments.cluster_fits order by fit_day")
        ids = wh.rows("select distinct as_of, cluster_id from segments.cluster_centroids order by all")
    with Warehouse.open(load_config(in_order), read_only=True) as wh:
        assert fits == wh.rows("select fit_day from segments.cluster_fits order by fit_day")
        assert ids == wh.rows(
            "select distinct as_of, cluster_id from segments.cluster_centroids order by all"
        )
