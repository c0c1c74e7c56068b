"""Incremental features: the daily activity roll-up kept up to date over consecutive days equals a rebuild.

Two warehouses receive the same staged rows day after day, as extract leaves them: new files, late
rows, a file read again with a changed row, a database source replacing a row by its newer version,
an erasure, and records merging (the identity map changes between days). One brings the roll-up up to
date incrementally, the other rebuilds it every day; features.customer_features of both must equal
each other and the definition over the raw events (tests/models/features/oracle.py), column for column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from tasks.features import build_features
from tasks.features.activity import ACTIVITY_VERSION, refresh_activity
from tasks.shared.config import FeatureConfig
from tasks.shared.contracts import ID_FIELDS
from tasks.shared.warehouse import Warehouse
from tests.models.features.oracle import raw_customer_features
from tests.models.helpers import create, local, lookups

DAY1 = date(2026, 3, 1)
CONFIG = FeatureConfig(session_event_types=["session", "match"])
EVENT_COLUMNS = ("event_id", "customer_ref", "email", "ts", "event_type", "category", "duration_s")


def day(n: int) -> date:
    """The n-th day of the scenario (day(1) is DAY1)."""
    return DAY1 + timedelta(days=n - 1)


def event(
    event_id: str,
    ref: str | None,
    when: datetime,
    kind: str | None = "session",
    category: str | None = "mahjong",
    duration: float | None = 60.0,
    email: str | None = None,
) -> tuple:
    """A staged event: (event_id, customer_ref, email, ts, event_type, category, duration_s)."""
    return (event_id, ref, email, when, kind, category, duration)


@dataclass
class Staged:
    """A warehouse fed as extract feeds staging.events and audit.load_state, one load at a time."""

    wh: Warehouse
    loads: int = 0
    identity: list[tuple] = field(default_factory=list)
    records: dict = field(default_factory=dict)  # what the last run's customer activity refresh did

    def load(self, source: str, file: str, rows: Sequence[tuple], *, start_row: int = 1) -> None:
        """A new file (or database batch) loaded: its rows staged, its load recorded."""
        self.loads += 1
        for number, row in enumerate(rows, start=start_row):
            values = dict(zip(EVENT_COLUMNS, row, strict=True))
            columns = ", ".join(["source", "_file", "_row", *values])
            marks = ", ".join("?" for _ in range(3 + len(values)))
            self.wh.execute(
                f"insert into staging.events ({columns}) values ({marks})",
                [source, file, number, *values.values()],
            )
        self.wh.execute(
            "insert into audit.load_state (source, file, file_hash, size, mtime_ns, watermark, config_fingerprint, "
            "loaded_at, run_id) values (?, ?, ?, 1, 1, null, 'cfg', now(), ?)",
            [source, file, f"hash-{self.loads}", f"run-{self.loads}"],
        )

    def reread(self, source: str, file: str, rows: Sequence[tuple]) -> None:
        """A changed file read again: its old rows and load forgotten, the new content staged."""
        self.wh.execute("delete from staging.events where source = ? and _file = ?", [source, file])
        self.wh.execute("delete from audit.load_state where source = ? and file = ?", [source, file])
        self.load(source, file, rows)

    def replace(self, source: str, batch: str, rows: Sequence[tuple]) -> None:
        """A database batch past the watermark: a row with a known id replaces the staged one."""
        ids = [row[0] for row in rows]
        self.wh.execute(
            "delete from staging.events where source = ? and event_id in (select unnest(?::varchar[]))",
            [source, ids],
        )
        self.load(source, batch, rows)

    def erase(self, ref: str) -> None:
        """A person erased: their staged rows deleted."""
        self.wh.execute("delete from staging.events where customer_ref = ?", [ref])

    def resolve(self, identity: Sequence[tuple], customers: Sequence[str]) -> None:
        """Dedupe's output of the day: the identity map and the customers."""
        self.identity = list(identity)
        create(
            self.wh, "core.identity_map", "source varchar, source_id varchar, customer_id varchar", identity
        )
        create(
            self.wh,
            "core.customers",
            "customer_id varchar, first_seen timestamptz, marketing_consent boolean",
            [(c, local(DAY1 - timedelta(days=400)), True) for c in customers],
        )


def warehouse() -> Staged:
    """A warehouse with the lookups, source links and fact views dedupe leaves (no rows staged yet)."""
    wh = Warehouse(":memory:")
    lookups(wh, {"a@x.cn": "a@x.cn", "A@X.CN ": "a@x.cn", "test@test.com": None}, {})
    wh.build(
        "core.source_links",
        "core/source_links",
        {"sources": ["crm", "game", "app"], "customer_sources": [None, "crm", "crm"]},
    )
    for kind in ("transactions", "events", "feedback"):
        wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": ID_FIELDS[kind]})
    return Staged(wh)


@pytest.fixture
def pair() -> Iterator[tuple[Staged, Staged]]:
    """Two warehouses fed the same rows: one refreshed incrementally, one rebuilt every run."""
    incremental, rebuilt = warehouse(), warehouse()
    yield incremental, rebuilt
    incremental.wh.close()
    rebuilt.wh.close()


def features(staged: Staged, as_of: date, *, rebuild: bool) -> tuple[dict, list[tuple]]:
    """build_features as of a day: (what the roll-up's refresh did, customer_features ordered by customer)."""
    counts = build_features(staged.wh, CONFIG, as_of, rebuild=rebuild)
    staged.records = counts["customer_activity"]
    return counts["activity"], staged.wh.rows("select * from features.customer_features order by customer_id")


def oracle(staged: Staged, as_of: date) -> list[tuple]:
    """customer_features as defined over the raw events, before the roll-up."""
    return raw_customer_features(staged.wh, as_of, CONFIG.session_event_types)


def activity(staged: Staged) -> list[tuple]:
    """The roll-up's rows, ordered."""
    return staged.wh.rows("select * from features.daily_activity order by all")


def kept_activity(staged: Staged) -> list[list[tuple]]:
    """Each record's and each customer's activity of the last run's day, and the identity map summed with."""
    tables = ("features.record_activity", "features.customer_activity", "features.activity_identity")
    return [staged.wh.rows(f"select * from {table} order by all") for table in tables]


def both(pair: tuple[Staged, Staged], step: str, *args: object, **kwargs: object) -> None:
    """Apply the same change to both warehouses."""
    for staged in pair:
        getattr(staged, step)(*args, **kwargs)


def run_day(pair: tuple[Staged, Staged], as_of: date, expected_mode: str) -> list[tuple]:
    """One daily run on both: the incremental features equal the rebuilt ones and the raw definition."""
    incremental, rebuilt = pair
    refresh, rows = features(incremental, as_of, rebuild=False)
    assert refresh["mode"] == expected_mode, refresh
    # each record's and customer's activity: recomputed for those that can differ, built whole after a rebuild
    summed = incremental.records
    if expected_mode == "rebuilt":
        assert summed["mode"] == "built", summed
    else:  # unchanged exactly when no record and no customer was recomputed
        assert summed["mode"] == ("updated" if summed["records"] or summed["customers"] else "unchanged"), (
            summed
        )
    full_refresh, full_rows = features(rebuilt, as_of, rebuild=True)
    assert full_refresh["mode"] == "rebuilt"
    assert rebuilt.records["mode"] == "built"
    assert rows == full_rows
    assert rows == oracle(incremental, as_of)
    assert activity(incremental) == activity(rebuilt)
    assert kept_activity(incremental) == kept_activity(rebuilt)
    assert rows, "the scenario has customers"
    return rows


# Customers: C1 = crm m1 (+ the record crm d1 from day 3), C2 = crm m2, C3 = crm m3 (merged into C1 on
# day 4), C4 = the e-mail record (game, email:a@x.cn) of rows without a member id.
IDENTITY = [("crm", "m1", "C1"), ("crm", "m2", "C2"), ("crm", "m3", "C3"), ("game", "email:a@x.cn", "C4")]
CUSTOMERS = ["C1", "C2", "C3", "C4"]


def test_incremental_features_equal_a_rebuild_and_the_raw_definition_day_after_day(
    pair: tuple[Staged, Staged],
) -> None:
    # day 1: the history, in two files, with rows of every kind; some rows lie after day 1 (ignored then)
    both(pair, "resolve", IDENTITY, CUSTOMERS)
    history = [
        event("g1", "m1", local(day(1) - timedelta(days=40)), duration=120.0),
        event("g2", "m1", local(day(1) - timedelta(days=40), "23:59:59"), category="poker", duration=30.5),
        event("g3", "m1", local(day(1), "00:00:00"), category="poker", duration=None),
        event("g4", "m2", local(day(1) - timedelta(days=100)), kind="match", category=None),
        event("g5", "m2", local(day(1) - timedelta(days=200)), duration=45.0),
        event("g6", None, local(day(1) - timedelta(days=3)), email="A@X.CN "),  # a record by e-mail
        # a placeholder e-mail: a record of its own (row:g7), which no customer has
        event("g7", None, local(day(1) - timedelta(days=2)), email="test@test.com"),
        event("g8", "m3", local(day(1) - timedelta(days=1)), kind="share", category="poker", duration=None),
        event("g9", "m3", local(day(1) - timedelta(days=1)), kind=None, category=None, duration=None),
        event("g10", "m1", local(day(2), "08:00:00"), duration=10.0),  # after day 1: read from day 2 on
        # rows that leave the 30, 90 and 180-day windows on day 4, of records no later file touches then
        event("g18", "m2", local(day(1) - timedelta(days=27)), duration=7.0),
        event("g19", None, local(day(1) - timedelta(days=87)), category="poker", email="a@x.cn"),
        event("g20", "m2", local(day(1) - timedelta(days=177)), kind="match", category="doudizhu"),
    ]
    both(pair, "load", "game", "game/history-1.parquet", history[:6])
    both(pair, "load", "game", "game/history-2.parquet", history[6:])
    both(
        pair,
        "load",
        "app",
        "app/shares.jsonl",
        [event("a1", "m2", local(day(1) - timedelta(days=5)), "share")],
    )
    first = run_day(pair, day(1), "rebuilt")  # no roll-up yet

    # day 2: the day's sessions, and late rows for days already rolled up (one 60 days back)
    both(
        pair,
        "load",
        "game",
        "game/day-2.parquet",
        [
            event("g11", "m1", local(day(2)), duration=20.0),
            event("g12", "m2", local(day(2), "23:30:00"), kind="match", category="mahjong"),
            event("g13", "m2", local(day(1) - timedelta(days=60)), category="doudizhu"),  # late
            event("g14", "m1", local(day(1)), category="poker", duration=15.0),  # late, onto day 1
        ],
    )
    run_day(pair, day(2), "incremental")

    # day 3: a new record of C1 (crm d1, from the app source), a late row of it; then a run with nothing new
    identity = [*IDENTITY, ("crm", "d1", "C1")]
    both(pair, "resolve", identity, CUSTOMERS)
    both(
        pair,
        "load",
        "app",
        "app/day-3.jsonl",
        [
            event("a2", "d1", local(day(3)), "share", "poker"),
            event("a3", "d1", local(day(2)), "session", "poker"),
        ],
    )
    run_day(pair, day(3), "incremental")
    run_day(pair, day(3), "unchanged")  # the same day again, nothing new

    # day 4: C3 merges into C1 (identity map only: the roll-up is by record, nothing to recompute)
    identity = [("crm", "m3", "C1") if row[1] == "m3" else row for row in identity]
    both(pair, "resolve", identity, ["C1", "C2", "C4"])
    both(pair, "load", "game", "game/day-4.parquet", [event("g15", "m3", local(day(4)), category="poker")])
    run_day(pair, day(4), "incremental")
    # recomputed: m3 (a row of day 4), m2 and the e-mail record (rows leaving a window); not m1 or d1
    # customers: C1 and C3 (the merge: C3 keeps no row), C2 and C4 (their records)
    assert (pair[0].records["records"], pair[0].records["customers"]) == (3, 4)

    # day 5: a file read again with a changed row (its old rows went): rebuilt
    changed = [event("g1", "m1", local(day(1) - timedelta(days=40)), duration=90.0), *history[1:6]]
    both(pair, "reread", "game", "game/history-1.parquet", changed)
    both(pair, "load", "game", "game/day-5.parquet", [event("g16", "m2", local(day(5)))])
    run_day(pair, day(5), "rebuilt")

    # day 6: a database source replaces a staged row by its newer version (another day, another record)
    both(pair, "load", "app", "postgres:app@run-6a", [event("p1", "m2", local(day(6)), "match", "poker")])
    run_day(pair, day(6), "incremental")
    both(pair, "replace", "app", "postgres:app@run-6b", [event("p1", "m1", local(day(4)), "match", "poker")])
    run_day(pair, day(6), "rebuilt")

    # day 7: an erasure deletes a person's staged rows: rebuilt; then new rows only again: incremental
    both(pair, "erase", "m2")
    run_day(pair, day(7), "rebuilt")
    late = event(
        "g21", "m3", local(day(1) - timedelta(days=10)), category="poker"
    )  # no other row of m3 moves
    both(pair, "load", "game", "game/day-8.parquet", [event("g17", "m1", local(day(8)), duration=5.0), late])
    run_day(pair, day(8), "incremental")
    assert (pair[0].records["records"], pair[0].records["customers"]) == (2, 1)  # both C1's

    # point in time: a backfill of day 1 after the later days are rolled up, with day 1's identity map,
    # sees only days <= day 1: what the day-1 run gave, less what came later for days <= day 1 (the late
    # rows g13, g14, a3's day is day 2) and what was changed or erased since
    incremental = pair[0]
    incremental.resolve(IDENTITY, CUSTOMERS)
    refresh, backfill = features(incremental, day(1), rebuild=False)
    assert refresh["mode"] == "unchanged"
    assert backfill == oracle(incremental, day(1))
    assert backfill != first  # late rows and the changes since count in a backfill, as in the raw definition


def test_a_backfill_gives_what_the_run_on_that_day_gave(pair: tuple[Staged, Staged]) -> None:
    incremental, _ = pair
    incremental.resolve(IDENTITY, CUSTOMERS)
    incremental.load(
        "game", "game/a.parquet", [event("g1", "m1", local(day(1))), event("g2", "m2", local(day(1)))]
    )
    _, on_the_day = features(incremental, day(1), rebuild=False)
    for n in range(2, 5):  # later days: rows of those days, and rows dated after as_of in a file of day 1
        incremental.load(
            "game",
            f"game/day-{n}.parquet",
            [event(f"n{n}", "m1", local(day(n))), event(f"m{n}", "m3", local(day(n) + timedelta(days=3)))],
        )
        features(incremental, day(n), rebuild=False)
    refresh, backfill = features(incremental, day(1), rebuild=False)
    assert refresh["mode"] == "unchanged"
    assert backfill == on_the_day


def test_the_roll_up_is_rebuilt_when_its_settings_change(pair: tuple[Staged, Staged]) -> None:
    staged, _ = pair
    staged.resolve(IDENTITY, CUSTOMERS)
    staged.load("game", "game/a.parquet", [event("g1", "m1", local(day(1)))])
    build_features(staged.wh, CONFIG, day(1), record_config="one")
    assert build_features(staged.wh, CONFIG, day(1), record_config="one")["activity"]["mode"] == "unchanged"
    refresh = build_features(staged.wh, CONFIG, day(1), record_config="two")["activity"]
    assert (refresh["mode"], refresh["reason"]) == (
        "rebuilt",
        "what maps an event to its record changed (the core.events view or the lookups' config)",
    )
    staged.wh.execute("update features.activity_state set version = ?", [ACTIVITY_VERSION - 1])
    assert build_features(staged.wh, CONFIG, day(1), record_config="two")["activity"]["mode"] == "rebuilt"
    staged.wh.execute("update features.activity_state set timezone = 'UTC'")
    assert build_features(staged.wh, CONFIG, day(1), record_config="two")["activity"]["mode"] == "rebuilt"
    assert build_features(staged.wh, CONFIG, day(1), record_config="two")["activity"]["mode"] == "unchanged"


def test_the_activity_tables_are_built_whole_unless_computed_from_this_roll_up(
    pair: tuple[Staged, Staged],
) -> None:
    staged, _ = pair
    staged.resolve(IDENTITY, CUSTOMERS)
    staged.load("game", "game/a.parquet", [event("g1", "m1", local(day(1)))])
    assert build_features(staged.wh, CONFIG, day(1))["customer_activity"]["mode"] == "built"
    assert build_features(staged.wh, CONFIG, day(2))["customer_activity"] == {
        "mode": "unchanged",
        "reason": "",
        "records": 0,  # nothing new, no row of m1 in a window's changed days
        "customers": 0,
        "rows": 1,
    }
    other = FeatureConfig(session_event_types=["session"])
    refresh = build_features(staged.wh, other, day(2))["customer_activity"]
    assert (refresh["mode"], refresh["reason"]) == (
        "built",
        "computed with other settings (the models, the session types, the half-life or their version)",
    )
    assert (
        build_features(staged.wh, CONFIG, day(2))["customer_activity"]["mode"] == "built"
    )  # the settings back
    refresh = build_features(staged.wh, CONFIG, day(2), half_life_days=1.0)["customer_activity"]
    assert (refresh["mode"], refresh["reason"]) == (
        "built",
        "act.recommendations.half_life_days changed from 30 to 1",
    )
    # a half-life of one day: an epoch serves 16 days, 2026-02-28 to 2026-03-15, then 2026-03-16 starts one
    assert (
        build_features(staged.wh, CONFIG, day(15), half_life_days=1.0)["customer_activity"]["mode"]
        == "unchanged"  # the same epoch: kept, and no row in a window's changed days
    )
    refresh = build_features(staged.wh, CONFIG, day(16), half_life_days=1.0)["customer_activity"]
    assert (refresh["mode"], refresh["reason"]) == (
        "built",
        "the day weighs plays against the epoch 2026-03-16, the tables against 2026-02-28",
    )
    assert build_features(staged.wh, CONFIG, day(2))["customer_activity"]["mode"] == "built"
    # the roll-up brought up to date by a run that stopped before each record's activity was
    staged.load("game", "game/b.parquet", [event("g2", "m2", local(day(2)))])
    assert refresh_activity(staged.wh).mode == "incremental"
    refresh = build_features(staged.wh, CONFIG, day(2))["customer_activity"]
    assert (refresh["mode"], refresh["reason"]) == (
        "built",
        "computed from another state of the activity roll-up",
    )
    assert build_features(staged.wh, CONFIG, day(2), rebuild=True)["customer_activity"] == {
        "mode": "built",
        "reason": "the activity roll-up was rebuilt",
        "records": 2,
        "customers": 2,
        "rows": 2,
    }
    assert build_features(staged.wh, CONFIG, day(3))["customer_activity"]["mode"] == "unchanged"
    assert staged.wh.rows("select * from features.customer_features order by customer_id") == oracle(
        staged, day(3)
    )
    staged.load("game", "game/c.parquet", [event("g3", "m1", local(day(4)))])
    assert build_features(staged.wh, CONFIG, day(4))["customer_activity"] == {
        "mode": "updated",
        "reason": "",
        "records": 1,  # m1: a new row; m2's day-2 row stays inside every window
        "customers": 1,
        "rows": 2,
    }
    assert staged.wh.rows("select * from features.customer_features order by customer_id") == oracle(
        staged, day(4)
    )


def test_a_record_whose_rows_of_a_recomputed_day_now_map_to_another_record_keeps_no_activity(
    pair: tuple[Staged, Staged],
) -> None:
    # day 1: an e-mail the lookup does not know yet, so its event is a record of its own (row:n1)
    identity = [*IDENTITY, ("game", "row:n1", "C5"), ("game", "email:new@x.cn", "C5")]
    both(pair, "resolve", identity, [*CUSTOMERS, "C5"])
    both(pair, "load", "game", "game/a.parquet", [event("n1", None, local(day(1)), email="new@x.cn")])
    run_day(pair, day(1), "rebuilt")
    assert pair[0].wh.scalar("select count(*) from features.record_activity where record_id = 'row:n1'") == 1
    # day 2: the lookup knows it now; a late row recomputes day 1, whose event is email:new@x.cn's from then on
    for staged in pair:
        staged.wh.execute("insert into core.email_lookup values ('new@x.cn', 'new@x.cn')")
    both(pair, "load", "game", "game/late.parquet", [event("n2", "m1", local(day(1), "12:00:00"))])
    run_day(pair, day(2), "incremental")
    assert pair[0].wh.rows(
        "select record_id, sessions_total from features.record_activity "
        "where record_id in ('row:n1', 'email:new@x.cn') order by 1"
    ) == [("email:new@x.cn", 1)]
