"""Days of staged events, fed as extract feeds them, for the readers of the features stage's daily roll-up.

The roll-up (features.daily_activity) is brought up to date by the features stage each day; predict's
activity periods and act's interactions read it. Over these days the events bring late rows (onto days
already rolled up, one 60 days back), several event types (session and match are sessions, share is not,
one event has no type), null categories and durations, rows dated after the day, a new record of a
customer and a merge of two customers: what the readers give must equal their definitions over the raw
events (tests/models/predict/activity_periods_raw.sql, tests/models/act/interactions_raw.sql).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from tasks.features import build_features
from tests.models.features.test_daily_activity import CONFIG, Staged, day, event, warehouse
from tests.models.helpers import local

SESSION_TYPES = CONFIG.session_event_types
# act.recommendations.half_life_days of the readers: the features stage weighs each record's plays with it
HALF_LIFE_DAYS = 10.0
# C1 = crm m1 (+ crm d1 from day 3), C2 = crm m2, C3 = crm m3 (merged into C1 on day 4), C4 = the e-mail record
IDENTITY = [("crm", "m1", "C1"), ("crm", "m2", "C2"), ("crm", "m3", "C3"), ("game", "email:a@x.cn", "C4")]
CUSTOMERS = ["C1", "C2", "C3", "C4"]


def staged_days() -> Iterator[tuple[Staged, date, str]]:
    """(the warehouse, the day, how the roll-up was refreshed) after each day's rows are staged and rolled up."""
    staged = warehouse()
    try:
        yield from feed(staged)
    finally:
        staged.wh.close()


def refresh(staged: Staged, as_of: date) -> tuple[Staged, date, str]:
    """The features stage of as_of (the roll-up brought up to date): the warehouse, as_of and the roll-up's mode."""
    refreshed = build_features(staged.wh, CONFIG, as_of, half_life_days=HALF_LIFE_DAYS)
    return staged, as_of, refreshed["activity"]["mode"]


def feed(staged: Staged) -> Iterator[tuple[Staged, date, str]]:
    """The days: history, late rows, a new record, a merge."""
    staged.resolve(IDENTITY, CUSTOMERS)
    staged.load(
        "game",
        "game/history.parquet",
        [
            event("g1", "m1", local(day(1) - timedelta(days=40)), duration=120.0),
            event(
                "g2", "m1", local(day(1) - timedelta(days=40), "23:59:59"), category="poker", duration=30.5
            ),
            event(
                "g3", "m1", local(day(1) - timedelta(days=40), "08:00:00"), category="poker", duration=None
            ),
            event("g4", "m1", local(day(1), "00:00:00"), kind="match", category="poker", duration=15.0),
            event("g5", "m1", local(day(1), "23:59:59"), category=None, duration=5.0),
            event("g6", "m2", local(day(1) - timedelta(days=100)), kind="match", category=None),
            event("g7", "m2", local(day(1) - timedelta(days=200)), category="doudizhu", duration=45.0),
            event("g8", None, local(day(1) - timedelta(days=3)), email="A@X.CN "),  # a record by e-mail
            event(
                "g9", "m3", local(day(1) - timedelta(days=1)), kind="share", category="poker", duration=None
            ),
            event("g10", "m3", local(day(1) - timedelta(days=1)), kind=None, category=None, duration=None),
            event("g11", "m3", local(day(1) - timedelta(days=35)), category="mahjong", duration=600.0),
            event("g12", "m1", local(day(2), "08:00:00"), duration=10.0),  # after day 1: read from day 2 on
        ],
    )
    yield refresh(staged, day(1))

    # day 2: the day's sessions, and late rows for days already rolled up (one 60 days back)
    staged.load(
        "game",
        "game/day-2.parquet",
        [
            event("g13", "m1", local(day(2)), duration=20.0),
            event("g14", "m2", local(day(2), "23:30:00"), kind="match", category="mahjong"),
            event("g15", "m2", local(day(1) - timedelta(days=60)), category="doudizhu"),  # late
            event("g16", "m1", local(day(1)), category="poker", duration=15.0),  # late, onto day 1
        ],
    )
    yield refresh(staged, day(2))

    # day 3: a new record of C1 (crm d1, from the app source) with a late row
    identity = [*IDENTITY, ("crm", "d1", "C1")]
    staged.resolve(identity, CUSTOMERS)
    staged.load(
        "app",
        "app/day-3.jsonl",
        [
            event("a1", "d1", local(day(3)), "share", "poker"),
            event("a2", "d1", local(day(2)), "session", "poker"),
        ],
    )
    yield refresh(staged, day(3))

    # day 4: C3 merges into C1 (the identity map only: the roll-up is by record)
    identity = [("crm", "m3", "C1") if row[1] == "m3" else row for row in identity]
    staged.resolve(identity, ["C1", "C2", "C4"])
    staged.load("game", "game/day-4.parquet", [event("g17", "m3", local(day(4)), category="poker")])
    yield refresh(staged, day(4))
