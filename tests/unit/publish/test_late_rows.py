"""Late rows: a run's new files holding rows of days published before its own day are said, with the backfill
that would publish those days again with them (tasks/publish/late_rows.py, sql/published/late_rows.sql)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tasks.extract import create_tables
from tasks.publish.late_rows import late_rows, late_rows_said
from tasks.publish.tables import partial_days
from tasks.shared.warehouse import Warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=SHANGHAI)


STARTED = datetime(2026, 12, 6, 22, tzinfo=SHANGHAI)  # the run r6


def late(kind: str, source: str, rows: int, days: int, first: int, last: int) -> dict:
    """A row of late_rows: first and last are days of December 2026."""
    return {
        "kind": kind,
        "source": source,
        "rows": rows,
        "days": days,
        "first_day": date(2026, 12, first),
        "last_day": date(2026, 12, last),
    }


def world(wh: Warehouse) -> None:
    create_tables(wh)
    wh.ensure("ops/runs")
    runs = [
        ("r3", date(2026, 12, 3), False),
        ("r4", date(2026, 12, 4), False),
        ("r5", date(2026, 12, 5), True),
    ]
    for run_id, as_of, partial in runs:
        wh.execute(
            "insert into published.runs (run_id, as_of, published_at, partial) values (?, ?, ?, ?)",
            [run_id, as_of, at(as_of.day, 23), partial],
        )
    # the run r6 started at 22:00 on 12-06; a file it rewrote keeps its first load time (12-01)
    loads = [
        ("pay", "pay/late.csv", "r6", at(6, 23)),
        ("pay", "pay/old.csv", "r4", at(4, 23)),
        ("game", "g/6.csv", "r6", at(6, 23)),
        ("pay", "pay/cumulative.csv", "r6", at(1)),
    ]
    for source, file, run_id, loaded_at in loads:
        wh.execute(
            "insert into audit.load_state (source, file, run_id, loaded_at) values (?, ?, ?, ?)",
            [source, file, run_id, loaded_at],
        )
    payments = [
        ("pay", "pay/late.csv", 1, at(3)),  # late, on a published day
        ("pay", "pay/late.csv", 2, at(4)),
        ("pay", "pay/late.csv", 3, at(4, 0)),  # 00:00 in Shanghai: 12-04 (16:00 UTC on 12-03)
        ("pay", "pay/late.csv", 4, at(5)),  # its latest publish was partial: the run publishes it again
        ("pay", "pay/late.csv", 5, at(6)),  # the run's own day
        ("pay", "pay/late.csv", 6, at(2)),  # before anything was published
        ("pay", "pay/old.csv", 1, at(3)),  # loaded by an earlier run
        ("pay", "pay/cumulative.csv", 1, at(3)),  # rewritten, not new: its rows were there before
    ]
    for source, file, row, ts in payments:
        wh.execute(
            "insert into staging.transactions (source, _file, _row, ts) values (?, ?, ?, ?)",
            [source, file, row, ts],
        )
    wh.execute(
        "insert into staging.events (source, _file, _row, ts) values ('game', 'g/6.csv', 1, ?)", [at(3)]
    )


def test_rows_of_new_files_on_complete_published_days_before_the_run_are_counted_by_source(
    wh: Warehouse,
) -> None:
    world(wh)
    rows = late_rows(wh, "r6", date(2026, 12, 6), STARTED, partial_days(wh))
    assert rows == [
        late("events", "game", 1, 1, 3, 3),
        late("transactions", "pay", 3, 2, 3, 4),
    ]
    assert late_rows_said(rows) == (
        "late rows on published days (2026-12-03 to 2026-12-04): game (events): 1 row on 1 day; pay (transactions): "
        "3 rows on 2 days. Those days stay as published, without them; this day and later ones count them. To publish "
        "the days again with them: segments backfill --config PATH --start 2026-12-03 --end 2026-12-04 --overwrite "
        "(the backfill flow with overwrite)"
    )
    assert late_rows(
        wh, "r6", date(2026, 12, 4), STARTED, partial_days(wh)
    ) == [  # a backfill day: only the days before it
        late("events", "game", 1, 1, 3, 3),
        late("transactions", "pay", 1, 1, 3, 3),
    ]
    assert late_rows(wh, "r7", date(2026, 12, 6), STARTED, partial_days(wh)) == []
    assert late_rows_said([]) is None


def test_nothing_published_means_nothing_late(wh: Warehouse) -> None:
    create_tables(wh)
    assert late_rows(wh, "r1", date(2026, 12, 6), STARTED, partial_days(wh)) == []
