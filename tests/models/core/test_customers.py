"""Model tests of core/customers, the golden record: survivorship per field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tasks.dedupe.golden import build_customers
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import KEYED_COLUMNS, create, local

CUSTOMER_RECORD_COLUMNS = (
    "source varchar, source_id varchar, full_name varchar, gender varchar, birth_date_norm date, "
    "email varchar, email_norm varchar, phone_norm varchar, city varchar, province varchar, "
    "signup_ts timestamptz, updated_at timestamptz, marketing_consent boolean, "
    "address varchar, postcode varchar, country varchar, national_id varchar"
)
WIDTH = CUSTOMER_RECORD_COLUMNS.count(",") + 1  # a record given without its last columns has none of them


def run_customers(
    wh: Warehouse,
    identity: Sequence[tuple],
    records: Sequence[tuple],
    observations: Sequence[tuple],
    source_priority: Sequence[str] = (),
) -> list[dict]:
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar, first_seen timestamptz",
        identity,
    )
    create(
        wh,
        "core.customer_records",
        CUSTOMER_RECORD_COLUMNS,
        [(*r, *[None] * (WIDTH - len(r))) for r in records],
    )
    create(
        wh,
        "core.record_observations",
        f"record_source varchar, record_id varchar, {KEYED_COLUMNS}",
        observations,
    )
    build_customers(wh, list(source_priority))
    return wh.dicts("select * from core.customers order by customer_id")


def test_customers_survivorship_and_fallback_to_fact_keys(wh: Warehouse) -> None:
    dec1, jan1, jan10 = local(date(2025, 12, 1)), local(date(2026, 1, 1)), local(date(2026, 1, 10))
    feb1, mar1 = local(date(2026, 2, 1)), local(date(2026, 3, 1))
    p1, p2 = "+8613800138001", "+8613800138002"
    rows = run_customers(
        wh,
        identity=[
            ("crm", "m1", "C1", dec1),
            ("crm", "m2", "C1", jan10),
            ("web", "w1", "C1", mar1),
            ("payments", "email:a@x.com", "C1", jan1),  # a fact record: no customers row
            ("payments", "phone:" + p2, "C2", jan1),
            ("game", "device:d9", "C2", feb1),
            ("crm", "m5", "C3", jan1),
        ],
        records=[
            # source, id, name, gender, birth, email, email_norm, phone_norm, city, province, signup, update, consent
            (
                "crm",
                "m1",
                "张三",
                "M",
                date(1990, 5, 1),
                "A@X.com",
                "a@x.com",
                p1,
                "北京",
                "北京",
                dec1,
                jan1,
                True,
            ),
            ("crm", "m2", "张三丰", None, None, "B@X.COM", "b@x.com", None, None, None, jan10, feb1, False),
            # no update: its signup (the most recent of all) is its recency
            ("web", "w1", None, None, None, None, None, None, "深圳", None, mar1, None, None),
            # placeholders only, consent unknown
            ("crm", "m5", "王五", None, None, "test@test.com", None, None, None, None, jan1, None, None),
            # a record that is not in identity_map (not seen by the cutoff): ignored
            ("crm", "m9", "赵六", "F", None, "z@x.com", "z@x.com", None, "上海", "上海", dec1, mar1, True),
        ],
        observations=[
            ("crm", "m1", "a@x.com", p1, None),
            ("crm", "m2", "b@x.com", None, "d1"),
            ("payments", "email:a@x.com", "a@x.com", None, None),
            ("payments", "phone:" + p2, None, p2, None),
            ("game", "device:d9", None, None, "d9"),
            ("game", "device:d9", None, p2, "d9"),
            ("crm", "m5", "c@x.com", None, None),  # seen on a fact row of m5
        ],
    )
    # the record each chosen value came from
    assert [row.pop("field_sources") for row in rows] == [
        {
            "full_name": "crm:m2",
            "gender": "crm:m1",
            "birth_date": "crm:m1",
            "email": "crm:m2",
            "phone": "crm:m1",
            "device_id": "crm:m2",
            "city": "web:w1",
            "province": "crm:m1",
            "address": None,
            "postcode": None,
            "country": None,
            "signup_ts": "crm:m1",
            "marketing_consent": "crm:m2",
        },
        {
            "full_name": None,
            "gender": None,
            "birth_date": None,
            "email": None,
            "phone": "payments:phone:" + p2,  # seen on two fact records: the larger key
            "device_id": "game:device:d9",
            "city": None,
            "province": None,
            "address": None,
            "postcode": None,
            "country": None,
            "signup_ts": None,
            "marketing_consent": None,
        },
        {
            "full_name": "crm:m5",
            "gender": None,
            "birth_date": None,
            "email": "crm:m5",
            "phone": None,
            "device_id": None,
            "city": None,
            "province": None,
            "address": None,
            "postcode": None,
            "country": None,
            "signup_ts": "crm:m5",
            "marketing_consent": None,
        },
    ]
    assert rows == [
        {
            "customer_id": "C1",
            "full_name": "张三丰",  # m2, the most recently updated record with a name
            "gender": "M",  # m2 has none: m1
            "birth_date": date(1990, 5, 1),
            "email": "b@x.com",  # normalized, from m2
            "phone": p1,
            "device_id": "d1",
            "city": "深圳",  # w1's recency is its signup, the latest of all
            "province": "北京",
            "address": None,
            "postcode": None,
            "country": None,
            "signup_ts": dec1,  # the earliest
            "marketing_consent": False,  # m2's; w1 does not say
            "first_seen": dec1,
            "records": 4,
            "sources": ["crm", "payments", "web"],
        },
        {
            # no customers-source record: contact keys from the fact rows, consent false
            "customer_id": "C2",
            "full_name": None,
            "gender": None,
            "birth_date": None,
            "email": None,
            "phone": p2,
            "device_id": "d9",
            "city": None,
            "province": None,
            "address": None,
            "postcode": None,
            "country": None,
            "signup_ts": None,
            "marketing_consent": False,
            "first_seen": jan1,
            "records": 2,
            "sources": ["game", "payments"],
        },
        {
            # a customers record with only placeholders: the email its fact rows were seen with
            "customer_id": "C3",
            "full_name": "王五",
            "gender": None,
            "birth_date": None,
            "email": "c@x.com",
            "phone": None,
            "device_id": None,
            "city": None,
            "province": None,
            "address": None,
            "postcode": None,
            "country": None,
            "signup_ts": jan1,
            "marketing_consent": False,
            "first_seen": jan1,
            "records": 1,
            "sources": ["crm"],
        },
    ]


def test_customers_keep_fields_of_a_record_without_timestamps(wh: Warehouse) -> None:
    jan1 = local(date(2026, 1, 1))
    rows = run_customers(
        wh,
        identity=[("crm", "m1", "C1", None), ("crm", "m2", "C1", jan1)],
        records=[
            # a customers source that maps neither signup_ts nor updated_at (both are optional)
            ("crm", "m1", "李四", "F", None, "l@x.com", "l@x.com", None, "上海", None, None, None, True),
            # a dated record of the same customer, without those fields: it cannot override them
            ("crm", "m2", None, None, None, None, None, None, None, "浙江", jan1, None, None),
        ],
        observations=[("crm", "m1", "l@x.com", None, None), ("crm", "m2", None, None, None)],
    )
    assert [
        (r["full_name"], r["gender"], r["email"], r["city"], r["province"], r["marketing_consent"])
        for r in rows
    ] == [("李四", "F", "l@x.com", "上海", "浙江", True)]


def test_customers_survivorship_by_source_priority_then_recency_then_frequency(wh: Warehouse) -> None:
    jan1, feb1 = local(date(2026, 1, 1)), local(date(2026, 2, 1))
    identity = [(source, sid, "C1", None) for source, sid in (("crm", "m1"), ("web", "w1"), ("web", "w2"))]
    identity += [("shop", f"s{i}", "C2", None) for i in (1, 2, 3)]
    # source, id, name, gender, birth, email, email_norm, phone_norm, city, province, signup, update, consent
    records = [
        ("crm", "m1", "张三", None, None, None, None, None, "北京", None, None, jan1, None),
        ("web", "w1", "張三", "M", None, None, None, None, "深圳", None, None, feb1, True),
        ("web", "w2", None, "F", None, None, None, None, None, None, None, jan1, None),
        # no timestamps at all: the value most records share wins over the larger id
        ("shop", "s1", "李四", None, None, None, None, None, "上海", None, None, None, None),
        ("shop", "s2", "李四", None, None, None, None, None, "上海", None, None, None, None),
        ("shop", "s3", "李斯", None, None, None, None, None, "杭州", None, None, None, None),
    ]
    observations = [(source, sid, None, None, None) for source, sid, *_ in identity]

    def pick(rows: list[dict]) -> list[tuple]:
        return [
            (r["customer_id"], r["full_name"], r["gender"], r["city"], r["field_sources"]["full_name"])
            for r in rows
        ]

    assert pick(run_customers(wh, identity, records, observations)) == [
        ("C1", "張三", "M", "深圳", "web:w1"),  # most recent
        ("C2", "李四", None, "上海", "shop:s2"),  # most frequent, then the larger id among equals
    ]
    assert pick(run_customers(wh, identity, records, observations, source_priority=["crm", "web"])) == [
        (
            "C1",
            "张三",
            "M",
            "北京",
            "crm:m1",
        ),  # the trusted source first; gender only from web: the most recent
        ("C2", "李四", None, "上海", "shop:s2"),  # unlisted sources: as without priority
    ]


def test_customers_keep_address_postcode_and_country_each_by_survivorship(wh: Warehouse) -> None:
    # Online Retail's customers carry only a country; a CRM has the whole address: each field on its own, as city
    jan1, feb1 = local(date(2026, 1, 1)), local(date(2026, 2, 1))
    identity = [("crm", "m1", "C1", None), ("shop", "17850", "C1", None), ("shop", "13047", "C2", None)]
    no_person = (None,) * 8  # name, gender, birth, email, email_norm, phone_norm, city, province
    records = [
        # source, id, ..., signup, update, consent, address, postcode, country
        ("crm", "m1", *no_person, None, jan1, None, "朝阳区建国路 88 号", "100022", "China"),
        ("shop", "17850", *no_person, None, feb1, None, None, None, "United Kingdom"),
        ("shop", "13047", *no_person, None, None, None, None, None, "France"),
    ]
    observations = [(source, sid, None, None, None) for source, sid, *_ in identity]

    def pick(rows: list[dict]) -> list[tuple]:
        return [
            (
                r["customer_id"],
                r["address"],
                r["postcode"],
                r["country"],
                r["field_sources"]["address"],
                r["field_sources"]["postcode"],
                r["field_sources"]["country"],
            )
            for r in rows
        ]

    assert pick(run_customers(wh, identity, records, observations)) == [
        # the shop's record is the more recent, but only the CRM has an address and a postcode
        ("C1", "朝阳区建国路 88 号", "100022", "United Kingdom", "crm:m1", "crm:m1", "shop:17850"),
        ("C2", None, None, "France", None, None, "shop:13047"),  # a single record: its values as they are
    ]
    assert pick(run_customers(wh, identity, records, observations, source_priority=["crm"])) == [
        ("C1", "朝阳区建国路 88 号", "100022", "China", "crm:m1", "crm:m1", "crm:m1"),
        ("C2", None, None, "France", None, None, "shop:13047"),
    ]
