"""Customer records brought up to date record by record (tasks/dedupe/records.py) equal the tables built whole.

Hand-built staging rows with files and versions as extract stages them, on an in-memory warehouse: each
day's run brings core.customer_records and core.record_observations up to date in place, then the same day
is resolved from scratch (rebuild: both tables built whole), and every table compared. The days bring a new
file with a new record and a new version of an old one, a late payment, a version that begins between two
cutoffs, a birth date that becomes plausible, and a day with no new file; a row edited in place and rows
erased build the tables whole.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from tasks.dedupe import DedupeResult, dedupe_all
from tasks.extract import create_tables
from tasks.shared.warehouse import Warehouse
from tests.unit.dedupe.test_ids import PHONE, config, stage, ts

DAY1, DAY2, DAY3, DAY4 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 4)
TABLES = ("core.customer_records", "core.record_observations", "core.identity_map", "core.customers")


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    with Warehouse(":memory:") as warehouse:
        create_tables(warehouse)
        yield warehouse


def version(
    wh: Warehouse, file: str, row: int, source_id: str, valid_from: datetime, **fields: object
) -> None:
    """Stage one version of a crm record from a file, ending its last version as extract does."""
    wh.execute(
        "update staging.customers set valid_to = ? where source = 'crm' and source_id = ? and valid_to is null "
        "and valid_from < ?",
        [valid_from, source_id, valid_from],
    )
    later = wh.scalar(
        "select min(valid_from) from staging.customers where source = 'crm' and source_id = ? and valid_from > ?",
        [source_id, valid_from],
    )
    row_values = {"source": "crm", "source_id": source_id, "valid_from": valid_from, "valid_to": later}
    stage(wh, "customers", row_values | {"_file": file, "_row": row, "updated_at": valid_from, **fields})


def payment(wh: Warehouse, file: str, txn_id: str, at: datetime, **fields: object) -> None:
    """Stage one payment from a file."""
    stage(
        wh,
        "transactions",
        {"source": "payments", "txn_id": txn_id, "ts": at, "_file": file, "_row": 1, **fields},
    )


def tables(wh: Warehouse) -> dict[str, list[tuple]]:
    """Every row of the compared tables, sorted."""
    return {name: wh.rows(f"select * from {name} order by all") for name in TABLES}


def resolved(wh: Warehouse, day: date) -> DedupeResult:
    """Dedupe as of day (records in place when it can), then the same day from scratch: the tables equal."""
    result = dedupe_all(wh, config(), day, f"run-{day}")
    kept = tables(wh)
    scratch = dedupe_all(wh, config(), day, f"scratch-{day}", rebuild=True)
    assert scratch.records_rebuilt == "the golden record is built whole"
    got = tables(wh)
    for name in TABLES:
        assert kept[name] == got[name], (day, name)
    return result


def test_records_brought_up_to_date_in_place_equal_the_tables_built_whole(wh: Warehouse) -> None:
    noon = ts(DAY1)
    version(
        wh,
        "crm/a.csv",
        1,
        "m1",
        noon - timedelta(days=30),
        email="a@x.com",
        signup_ts=noon - timedelta(days=30),
    )
    # a birth date after DAY1 (implausible as of DAY1, read on DAY2)
    version(wh, "crm/a.csv", 2, "m2", noon - timedelta(days=20), phone=PHONE, birth_date="2026-01-02")
    # m3: a version that begins after DAY1's cutoff, already staged (a dated export)
    version(wh, "crm/a.csv", 3, "m3", noon - timedelta(days=10), email="m3@x.com")
    version(wh, "crm/a.csv", 4, "m3", ts(DAY2), email="m3.new@x.com")
    # m6: staged before DAY1 but signed up on DAY2 (seen from then on)
    version(wh, "crm/a.csv", 5, "m6", noon - timedelta(days=10), phone="13900000006", signup_ts=ts(DAY2))
    payment(wh, "payments/p1.csv", "t1", noon, customer_ref="m1")
    # m7 and a payment staged on DAY1 and dated DAY2: the e-mail it carries is m7's from DAY2 on
    version(wh, "crm/a.csv", 6, "m7", noon - timedelta(days=10), email="m7@x.com")
    payment(wh, "payments/p1.csv", "t3", ts(DAY2), customer_ref="m7", email="future@x.com")
    first = dedupe_all(wh, config(), DAY1, "run-1")
    assert first.records_rebuilt == "the golden record is built whole"
    assert wh.rows("select email from core.customer_records where source_id = 'm3'") == [("m3@x.com",)]
    assert wh.rows("select birth_date_norm from core.customer_records where source_id = 'm2'") == [(None,)]
    resolved(wh, DAY1)

    # a new file: a new record m4 with m2's phone, and a new version of m1; a late payment with m4's phone
    version(wh, "crm/b.csv", 1, "m4", ts(DAY2), phone=PHONE, signup_ts=ts(DAY2))
    version(wh, "crm/b.csv", 2, "m1", ts(DAY2), email="b@x.com", signup_ts=noon - timedelta(days=30))
    # an old record first exported now: its version began long before both cutoffs
    version(wh, "crm/b.csv", 3, "m5", noon - timedelta(days=40), email="m5@x.com")
    payment(wh, "payments/p2.csv", "t2", noon - timedelta(days=5), phone=PHONE, email="late@x.com")
    second = resolved(wh, DAY2)
    assert second.records_rebuilt is None
    assert wh.rows("select source_id, email from core.customer_records order by all") == [
        ("m1", "b@x.com"),
        ("m2", None),
        ("m3", "m3.new@x.com"),  # its second version began before DAY2's cutoff
        ("m4", None),
        ("m5", "m5@x.com"),
        ("m6", None),
        ("m7", "m7@x.com"),
    ]
    seen = "select record_id, email_norm, phone_norm from core.record_observations where record_id in ('m6', 'm7')"
    assert sorted(wh.rows(seen), key=str) == sorted(
        [("m6", None, "+8613900000006"), ("m7", "future@x.com", None), ("m7", "m7@x.com", None)], key=str
    )
    assert wh.rows("select birth_date_norm from core.customer_records where source_id = 'm2'") == [
        (date(2026, 1, 2),)
    ]
    customers_of = "select count(distinct customer_id) from core.identity_map where source_id in ('m2', 'm4')"
    assert wh.scalar(customers_of) == 1  # m4 joins m2 by phone

    # no new file: the next day brings both tables up to date with nothing recomputed but what the cutoff moves
    third = resolved(wh, DAY3)
    assert third.records_rebuilt is None

    # a row edited in place (same file, same count): the file's content differs, the tables are built whole
    wh.execute("update staging.customers set email = 'edited@x.com' where source_id = 'm4'")
    fourth = dedupe_all(wh, config(), DAY4, "run-4")
    assert (
        fourth.records_rebuilt
        == "1 files of customer records were re-read, re-staged, or had rows replaced or erased"
    )
    assert wh.rows("select email from core.customer_records where source_id = 'm4'") == [("edited@x.com",)]
    resolved(wh, DAY4)

    # rows erased from the tables behind the run's back (an erasure): built whole
    wh.execute("delete from core.customer_records where source_id = 'm3'")
    again = dedupe_all(wh, config(), DAY4, "run-4-again")
    assert again.records_rebuilt == "the tables lost or gained rows since the last run (an erasure)"
    assert wh.scalar("select count(*) from core.customer_records where source_id = 'm3'") == 1


def test_a_backfill_day_brings_the_records_back_to_its_cutoff(wh: Warehouse) -> None:
    noon = ts(DAY1)
    version(wh, "crm/a.csv", 1, "m1", noon - timedelta(days=3), email="a@x.com")
    version(wh, "crm/a.csv", 2, "m1", ts(DAY3), email="later@x.com")
    dedupe_all(wh, config(), DAY3, "run-3")
    assert wh.rows("select email from core.customer_records") == [("later@x.com",)]
    # an earlier day after a later one: the version that began between the two cutoffs is undone
    backfill = resolved(wh, DAY1)
    assert backfill.records_rebuilt is None
    assert wh.rows("select email from core.customer_records") == [("a@x.com",)]


def test_a_run_counts_the_values_it_cannot_use(wh: Warehouse) -> None:
    """Given values left out of matching and the golden record are counted per field, as of the run's day."""
    noon = ts(DAY1)
    version(wh, "crm/a.csv", 1, "m1", noon - timedelta(days=30), email="a@x.com", phone=PHONE)
    # nine digits, and a birth date after DAY1 (implausible as of DAY1, plausible as of DAY2); then no e-mail
    # and a placeholder birth date
    version(wh, "crm/a.csv", 2, "m2", noon - timedelta(days=20), phone="138001380", birth_date="2026-01-02")
    version(wh, "crm/a.csv", 3, "m3", noon - timedelta(days=10), email="no e-mail", birth_date="1900-01-01")
    first = dedupe_all(wh, config(), DAY1, "run-1")
    assert first.unusable_values == {"email": 1, "phone": 1, "birth_date": 2}
    # the golden record holds none of them
    assert wh.rows("select email, phone, birth_date from core.customers order by all") == [
        ("a@x.com", "+8613900000001", None),
        (None, None, None),
        (None, None, None),
    ]
    second = dedupe_all(wh, config(), DAY2, "run-2")
    assert second.unusable_values == {"email": 1, "phone": 1, "birth_date": 1}
