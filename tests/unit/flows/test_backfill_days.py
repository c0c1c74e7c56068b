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


def test_a_backfill_before_published_days_recomputes_them_after_it_in_order() -> None:
    from flows.backfill import History, plan

    d = [date(2026, 3, n) for n in range(1, 11)]
    known = History(progress=set(), published={d[4], d[5], d[8]}, partial={d[5]})
    # range 3..6: 3, 4 computed, 5 (published) follows them, 6 recomputed (partial); 9 follows
    assert plan(d[2:6], known, overwrite=False) == [
        (d[2], "compute"),
        (d[3], "compute"),
        (d[4], "follow"),
        (d[5], "compute"),
        (d[8], "follow"),
    ]
    # a range starting with published days: those before the first computed day stay as they are
    assert plan(d[4:7], History(set(), {d[4], d[6], d[8]}, set()), overwrite=False) == [
        (d[4], "skip"),
        (d[5], "compute"),
        (d[6], "follow"),
        (d[8], "follow"),
    ]
    # nothing to compute in the range: later days stay as they are
    assert plan([d[4]], History(set(), {d[4], d[8]}, set()), overwrite=False) == [(d[4], "skip")]
    # overwrite recomputes published days of the range too
    assert plan([d[4]], History(set(), {d[4], d[8]}, set()), overwrite=True) == [
        (d[4], "compute"),
        (d[8], "follow"),
    ]
    # a resumed request: its range was done in the earlier attempt, a later day too; the rest follows
    resumed = History(progress={d[2], d[8]}, published={d[2], d[8], d[9]}, partial=set())
    assert plan([d[2]], resumed, overwrite=False) == [(d[2], "skip"), (d[8], "skip"), (d[9], "follow")]
