"""Model tests of core/record_observations and core/fact_observations*: the keys each record was seen with,
point in time (the facts' groups kept whatever their time, folded in file by file)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tasks.dedupe.observations import fold
from tasks.dedupe.records import WHOLE_OBSERVATIONS
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, columns_of, create, local

OBSERVATIONS_CUTOFF = datetime(2026, 1, 11, tzinfo=SHANGHAI)  # end of as_of 2026-01-10
KEYED = "email_norm varchar, phone_norm varchar, device_norm varchar"  # as the core fact views give them
FACT_COLUMNS = (
    f"source varchar, _file varchar, record_source varchar, record_id varchar, {KEYED}, ts timestamptz"
)


def create_facts(wh: Warehouse, file: str = "day1", **rows: list[tuple]) -> None:
    """Fact rows of one staged file (source 'src') as the core fact views give them: a table per kind."""
    for kind in ("transactions", "events", "feedback"):
        if not wh.table_exists(f"core.{kind}"):
            create(wh, f"core.{kind}", FACT_COLUMNS, [])
        if rows.get(kind):
            wh.con.executemany(
                f"insert into core.{kind} values (?, ?, ?, ?, ?, ?, ?, ?)",
                [["src", file, *row] for row in rows[kind]],
            )


def fold_files(wh: Warehouse, files: list[str]) -> None:
    """Fold the facts of these files into core.fact_observations, as a run that finds them new does."""
    wh.ensure("core/fact_observations")
    create(
        wh,
        "_fact_observation_file_changes",
        "source varchar, file varchar, change varchar",
        [("src", file, "new") for file in files],
        temp=True,
    )
    fold(wh)
    wh.execute("drop table _fact_observation_file_changes")


def test_record_observations_group_keys_per_record_point_in_time(wh: Warehouse) -> None:
    jan = {d: local(date(2026, 1, d)) for d in range(1, 8)}
    last_second = OBSERVATIONS_CUTOFF - timedelta(seconds=1)
    phone = "+8613800138000"
    create(
        wh,
        "core.customer_records",
        f"source varchar, source_id varchar, {KEYED}, seen_ts timestamptz",
        [
            ("crm", "m1", "a@x.com", phone, None, jan[5]),
            ("crm", "m2", "b@x.com", None, None, None),  # no timestamp: known since the beginning
            ("crm", "m3", "c@x.com", None, None, OBSERVATIONS_CUTOFF),  # signed up at the cutoff: not yet
            ("crm", "m4", "d@x.com", None, None, local(date(2026, 2, 1))),  # after the cutoff
        ],
    )
    create_facts(
        wh,
        transactions=[
            ("crm", "m1", "a@x.com", phone, None, jan[3]),  # same keys as m1's customer row: one group
            ("crm", "m1", None, None, "dev1", jan[7]),  # other keys: a group of their own
            ("crm", "m2", "b@x.com", None, None, jan[2]),  # joins an undated group: stays undated
            ("crm", "m3", "c@x.com", None, None, jan[4]),  # the record is seen through its fact
        ],
        events=[
            ("crm", "m1", None, None, "dev1", jan[6]),
            ("app", "device:dev9", None, None, "dev9", last_second),  # the last second of as_of counts
            ("app", "device:dev9", None, None, "dev9", OBSERVATIONS_CUTOFF),
            ("app", "device:dev8", None, None, "dev8", OBSERVATIONS_CUTOFF),  # only at the cutoff: no row
        ],
        feedback=[("crm", "m1", "a@x.com", phone, None, jan[1])],
    )
    fold_files(wh, ["day1"])

    assert (
        wh.build(
            "core.record_observations",
            "core/record_observations",
            {"cutoff": OBSERVATIONS_CUTOFF},
            identifiers=WHOLE_OBSERVATIONS,
        )
        == 5
    )
    assert columns_of(wh, "core", "record_observations") == [
        "record_source",
        "record_id",
        "email_norm",
        "phone_norm",
        "device_id",
        "first_seen",
    ]
    assert wh.rows("select * from core.record_observations order by all") == [
        ("app", "device:dev9", None, None, "dev9", last_second),
        ("crm", "m1", "a@x.com", phone, None, jan[1]),
        ("crm", "m1", None, None, "dev1", jan[6]),
        ("crm", "m2", "b@x.com", None, None, None),
        ("crm", "m3", "c@x.com", None, None, jan[4]),
    ]


def test_fact_observations_folded_file_by_file_equal_one_fold_of_every_file(wh: Warehouse) -> None:
    jan = {d: local(date(2026, 1, d)) for d in range(1, 10)}
    create_facts(
        wh,
        "day1",
        transactions=[
            ("crm", "m1", "a@x.com", None, None, jan[3]),
            ("crm", "m2", None, "+86138", None, jan[2]),
        ],
        events=[("crm", "m1", None, None, "dev1", jan[4]), ("app", "device:d9", None, None, "d9", jan[8])],
    )
    fold_files(wh, ["day1"])
    assert wh.rows("select * from core.fact_observations order by all") == [
        ("app", "device:d9", None, None, "d9", jan[8]),  # seen after a cutoff before jan 8: kept all the same
        ("crm", "m1", "a@x.com", None, None, jan[3]),
        ("crm", "m1", None, None, "dev1", jan[4]),
        ("crm", "m2", None, "+86138", None, jan[2]),
    ]
    create_facts(
        wh,
        "day2",
        transactions=[
            ("crm", "m1", "a@x.com", None, None, jan[1]),  # late: earlier than the held group
            ("crm", "m1", "a@x.com", None, None, jan[9]),
            ("crm", "m3", "c@x.com", None, None, jan[9]),  # a new group
        ],
        events=[("crm", "m1", None, None, "dev1", None)],  # undated: the group is known since the beginning
        feedback=[("crm", "m2", None, "+86138", None, jan[5])],  # later than held: the group keeps jan 2
    )
    fold_files(wh, ["day2"])
    folded = wh.rows("select * from core.fact_observations order by all")
    assert folded == [
        ("app", "device:d9", None, None, "d9", jan[8]),
        ("crm", "m1", "a@x.com", None, None, jan[1]),
        ("crm", "m1", None, None, "dev1", None),
        ("crm", "m2", None, "+86138", None, jan[2]),
        ("crm", "m3", "c@x.com", None, None, jan[9]),
    ]
    create(
        wh, "core.customer_records", f"source varchar, source_id varchar, {KEYED}, seen_ts timestamptz", []
    )
    by_day = {
        cutoff: wh.rows(
            wh.model_sql("core/record_observations", WHOLE_OBSERVATIONS) + " order by all",
            {"cutoff": local(date(2026, 1, cutoff))},
        )
        for cutoff in (2, 4, 9, 10)
    }
    wh.execute("delete from core.fact_observations")
    fold_files(wh, ["day1", "day2"])  # every file at once, as a rebuild does
    assert wh.rows("select * from core.fact_observations order by all") == folded
    # the rows before each cutoff grouped directly (the definition), for a backfill as for the newest day
    for cutoff, rows in by_day.items():
        direct = wh.rows(
            "select record_source, record_id, email_norm, phone_norm, device_norm, "
            "case when bool_or(ts is null) then null else min(ts) end from "
            "(select * from core.transactions union all select * from core.events union all "
            "select * from core.feedback) where ts is null or ts < $cutoff group by all order by all",
            {"cutoff": local(date(2026, 1, cutoff))},
        )
        assert rows == direct, cutoff
    assert [len(rows) for rows in by_day.values()] == [2, 3, 4, 5]
