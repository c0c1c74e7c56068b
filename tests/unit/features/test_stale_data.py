"""The warning for data whose newest activity is long before as_of (a historical dataset run as of yesterday)."""

from datetime import date

from tasks.features import STALE_DAYS, stale_data


def test_activity_more_than_a_year_before_as_of_is_warned_of_with_the_as_of_to_use() -> None:
    assert STALE_DAYS == 365
    assert stale_data(date(1998, 6, 30), date(2026, 12, 6)) == (
        "the newest purchase, session or event on or before 2026-12-06 is from 1998-06-30, 10,386 days earlier: "
        "every recency, window and score is measured from 2026-12-06; for data of the past, run as of its last day "
        "(segments run --as-of 1998-06-30, or the flow parameter as_of)"
    )


def test_recent_activity_or_none_is_not_warned_of() -> None:
    assert stale_data(date(2025, 12, 6), date(2026, 12, 6)) is None  # 365 days
    assert stale_data(date(2025, 12, 5), date(2026, 12, 6)) is not None  # 366
    assert stale_data(None, date(2026, 12, 6)) is None
