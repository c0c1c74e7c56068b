"""Backfill ranges: every day oldest first, and errors that say what is wrong."""

from datetime import date

import pytest

from flows.backfill import backfill_days
from tasks.shared.errors import DataError


def test_backfill_days_are_every_day_oldest_first() -> None:
    days = backfill_days(date(2026, 2, 27), date(2026, 3, 2), today=date(2026, 11, 23), max_days=10)
    assert days == [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            date(2026, 3, 2),
            date(2026, 3, 1),
            "backfill start 2026-03-02 is after end 2026-03-01: give start <= end",
        ),
        (
            date(2026, 11, 20),
            date(2026, 11, 24),
            "backfill end 2026-11-24 is in the future (today is 2026-11-23): the last day must be 2026-11-23 or earlier",
        ),
        (
            date(2026, 1, 1),
            date(2026, 1, 11),
            "backfill of 11 days (2026-01-01..2026-01-11) is longer than orchestration.backfill_max_days = 10: "
            "split it into several runs or raise the limit in the config",
        ),
    ],
)
def test_backfill_range_errors_say_what_is_wrong(start: date, end: date, message: str) -> None:
    with pytest.raises(DataError) as caught:
        backfill_days(start, end, today=date(2026, 11, 23), max_days=10)
    assert str(caught.value) == message
