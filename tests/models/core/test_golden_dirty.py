"""Model test of core/golden_dirty: the customers whose golden record inputs changed since the last run."""

from __future__ import annotations

from datetime import date

from tasks.dedupe.records import WHOLE_CHANGES
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create, local

IDENTITY = "source varchar, source_id varchar, customer_id varchar, first_seen timestamptz"
RECORDS = "source varchar, source_id varchar, city varchar"
OBSERVATIONS = (
    "record_source varchar, record_id varchar, email_norm varchar, phone_norm varchar, device_id varchar, "
    "first_seen timestamptz"
)


def test_golden_dirty_names_the_customers_whose_rows_changed(wh: Warehouse) -> None:
    d1, d2 = local(date(2026, 1, 1)), local(date(2026, 1, 2))
    before = [
        ("crm", "a", "CA", d1),  # unchanged throughout
        ("crm", "b", "CB", d1),  # moves to customer CC
        ("crm", "c", "CC", d1),
        ("crm", "d", "CD", d1),  # gone
        ("crm", "e", "CE", d1),  # first_seen changes
        ("crm", "f", "CF", d1),  # its customer record changes
        ("crm", "g", "CG", d1),  # an observation changes
        ("crm", "h", "CH", None),  # an observation with null keys, unchanged
    ]
    now = [
        ("crm", "a", "CA", d1),
        ("crm", "b", "CC", d1),
        ("crm", "c", "CC", d1),
        ("crm", "e", "CE", None),
        ("crm", "f", "CF", d1),
        ("crm", "g", "CG", d1),
        ("crm", "h", "CH", None),
        ("crm", "n", "CN", d2),  # new
    ]
    create(wh, "core.identity_map_before", IDENTITY, before)
    create(wh, "core.identity_map", IDENTITY, now)
    records = [("crm", key, "杭州") for key in "abcdefgh"]
    create(wh, "core.customer_records_before", RECORDS, records)
    create(wh, "core.customer_records", RECORDS, [*(r for r in records if r[1] != "f"), ("crm", "f", "上海")])
    observed = [
        ("crm", "a", "a@x.com", None, None, d1),
        ("crm", "g", "g@x.com", None, None, d1),
        ("crm", "h", None, None, None, None),
    ]
    create(wh, "core.record_observations_before", OBSERVATIONS, observed)
    create(
        wh,
        "core.record_observations",
        OBSERVATIONS,
        [observed[0], ("crm", "g", "g@x.com", None, None, d2), observed[2]],
    )
    wh.build("_changed_records", "core/changed_records", temp=True, identifiers=WHOLE_CHANGES)
    assert wh.rows("select * from _changed_records order by all") == [("crm", "f"), ("crm", "g")]
    sides = {"after": "core.identity_map", "before": "core.identity_map_before"}
    wh.build("_identity_changed", "core/identity_changed", temp=True, identifiers=sides)
    assert wh.rows("select * from _identity_changed order by all") == [
        ("CB",),
        ("CC",),
        ("CD",),
        ("CE",),
        ("CN",),
    ]
    dirty = wh.rows(wh.model_sql("core/golden_dirty") + " order by all")
    assert dirty == [("CB",), ("CC",), ("CD",), ("CE",), ("CF",), ("CG",), ("CN",)]
