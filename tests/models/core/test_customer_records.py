"""Model tests of core/customer_records: staged customer rows with their normalized keys and first-seen time."""

from __future__ import annotations

from datetime import date

from tasks.dedupe.records import WHOLE
from tasks.extract import create_tables
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import columns_of, local, lookups, stage

STAGED_CUSTOMER_COLUMNS = [
    "source",
    "_file",
    "_row",
    "source_id",
    "full_name",
    "given_name",
    "family_name",
    "gender",
    "birth_date",
    "email",
    "phone",
    "device_id",
    "national_id",
    "address",
    "city",
    "province",
    "postcode",
    "country",
    "signup_ts",
    "updated_at",
    "marketing_consent",
]


def test_customer_records_join_normalized_keys_and_take_seen_ts(wh: Warehouse) -> None:
    dec1, jan5, feb1 = local(date(2025, 12, 1)), local(date(2026, 1, 5)), local(date(2026, 2, 1))
    create_tables(wh)
    lookups(
        wh,
        emails={"A@X.com": "a@x.com", "test@test.com": None},
        phones={"138-0013-8000": "+8613800138000", "13800000000": None},
        names=[("張 三", "张三", "sanzhang"), ("Li Si", "li si", "lisi"), ("未知", None, None)],
        places={"北京市": "北京", "未知": None},
        births=[(date(1990, 1, 2), date(1990, 1, 2)), (date(1970, 1, 1), None)],
    )
    stage(
        wh,
        "customers",
        [
            # both timestamps: seen since signup
            {
                "source": "crm",
                "_file": "crm.csv",
                "_row": 1,
                "source_id": "m1",
                "full_name": "張 三",
                "birth_date": date(1990, 1, 2),
                "city": "北京市",
                "email": "A@X.com",
                "phone": "138-0013-8000",
                "signup_ts": dec1,
                "updated_at": feb1,
            },
            # placeholders: in the lookups, normalized to null; no signup: seen since the update
            {
                "source": "crm",
                "_file": "crm.csv",
                "_row": 2,
                "source_id": "m2",
                "full_name": "未知",
                "birth_date": date(1970, 1, 1),
                "city": "未知",
                "email": "test@test.com",
                "phone": "13800000000",
                "updated_at": jan5,
            },
            # raw values missing from the lookups give null norms; no timestamp at all: seen_ts null
            {
                "source": "web",
                "_file": "web.csv",
                "_row": 1,
                "source_id": "w1",
                "email": "b@y.com",
                "phone": "13900139000",
            },
            # no identifiers at all; the name from family and given name
            {
                "source": "web",
                "_file": "web.csv",
                "_row": 2,
                "source_id": "w2",
                "family_name": "Li",
                "given_name": "Si",
                "province": "北京市",
                "signup_ts": jan5,
            },
        ],
    )

    assert (
        wh.build(
            "core.customer_records",
            "core/customer_records",
            {"cutoff": local(date(2026, 3, 1))},
            identifiers=WHOLE,
        )
        == 4
    )
    assert columns_of(wh, "core", "customer_records") == [
        *STAGED_CUSTOMER_COLUMNS,
        "email_norm",
        "phone_norm",
        "device_norm",
        "seen_ts",
        "name_norm",
        "name_key",
        "birth_date_norm",
        "address_norm",
        "city_norm",
        "province_norm",
    ]
    assert wh.rows(
        "select source_id, name_norm, name_key, birth_date_norm, city_norm, province_norm "
        "from core.customer_records order by source, source_id"
    ) == [
        ("m1", "张三", "sanzhang", date(1990, 1, 2), "北京", None),
        ("m2", None, None, None, None, None),  # placeholders: never match keys
        ("w1", None, None, None, None, None),
        ("w2", "li si", "lisi", None, None, "北京"),
    ]
    assert wh.rows(
        "select source, source_id, email, email_norm, phone, phone_norm, seen_ts "
        "from core.customer_records order by source, source_id"
    ) == [
        ("crm", "m1", "A@X.com", "a@x.com", "138-0013-8000", "+8613800138000", dec1),
        ("crm", "m2", "test@test.com", None, "13800000000", None, jan5),
        ("web", "w1", "b@y.com", None, "13900139000", None, None),
        ("web", "w2", None, None, None, None, jan5),
    ]
