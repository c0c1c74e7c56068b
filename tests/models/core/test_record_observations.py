"""Model tests of core/record_observations: the keys each record was seen with, point in time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, columns_of, create, local

OBSERVATIONS_CUTOFF = datetime(2026, 1, 11, tzinfo=SHANGHAI)  # end of as_of 2026-01-10


def test_record_observations_group_keys_per_record_point_in_time(wh: Warehouse) -> None:
    jan = {d: local(date(2026, 1, d)) for d in range(1, 8)}
    last_second = OBSERVATIONS_CUTOFF - timedelta(seconds=1)
    phone = "+8613800138000"
    keyed = "email_norm varchar, phone_norm varchar, device_norm varchar"  # as the views give them
    create(
        wh,
        "core.customer_records",
        f"source varchar, source_id varchar, {keyed}, seen_ts timestamptz",
        [
            ("crm", "m1", "a@x.com", phone, None, jan[5]),
            ("crm", "m2", "b@x.com", None, None, None),  # no timestamp: known since the beginning
            ("crm", "m3", "c@x.com", None, None, OBSERVATIONS_CUTOFF),  # signed up at the cutoff: not yet
            ("crm", "m4", "d@x.com", None, None, local(date(2026, 2, 1))),  # after the cutoff
        ],
    )
    fact_columns = f"record_source varchar, record_id varchar, {keyed}, ts timestamptz"
    create(
        wh,
        "core.transactions",
        fact_columns,
        [
            ("crm", "m1", "a@x.com", phone, None, jan[3]),  # same keys as m1's customer row: one group
            ("crm", "m1", None, None, "dev1", jan[7]),  # other keys: a group of their own
            ("crm", "m2", "b@x.com", None, None, jan[2]),  # joins an undated group: stays undated
            ("crm", "m3", "c@x.com", None, None, jan[4]),  # the record is seen through its fact
        ],
    )
    create(
        wh,
        "core.events",
        fact_columns,
        [
            ("crm", "m1", None, None, "dev1", jan[6]),
            ("app", "device:dev9", None, None, "dev9", last_second),  # the last second of as_of counts
            ("app", "device:dev9", None, None, "dev9", OBSERVATIONS_CUTOFF),
            ("app", "device:dev8", None, None, "dev8", OBSERVATIONS_CUTOFF),  # only at the cutoff: no row
        ],
    )
    create(wh, "core.feedback", fact_columns, [("crm", "m1", "a@x.com", phone, None, jan[1])])

    assert (
        wh.build("core.record_observations", "core/record_observations", {"cutoff": OBSERVATIONS_CUTOFF}) == 5
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
