"""Backfilling a day before published days: the later days are recomputed against their new neighbours."""

from datetime import timedelta
from pathlib import Path

import pytest

from flows.backfill import backfill
from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END

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
