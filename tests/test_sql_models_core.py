"""Model tests for the core layer, the segments join and publishing: a few hand-written rows, expected rows.

Like tests/test_sql_models.py: every test runs in an in-memory warehouse (`Warehouse(":memory:")`, time zone
Asia/Shanghai) and creates only the input tables its model reads. Staging tables come from
`tasks.extract.create_tables`, so the models are checked against the real staging schema; the lookups
(`core.email_lookup`, `core.phone_lookup`) and `core.source_links` are written by hand, so that each expected
row can be traced to an input row. Export files go to pytest's tmp_path only.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from tasks.dedupe import FACT_KINDS, build_customers
from tasks.extract import ID_FIELDS, create_tables
from tasks.publish import UTF8_BOM, code_version, publish_tables, write_exports
from tasks.segment import write_rule_table
from tasks.tags import build_tags
from tasks.warehouse import Warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    with Warehouse(":memory:") as warehouse:
        yield warehouse


def create(wh: Warehouse, table: str, columns: str, rows: Sequence[tuple]) -> None:
    """Create table with the given column list and insert rows."""
    wh.execute(f"create or replace table {table} ({columns})")
    if rows:
        placeholders = ", ".join("?" for _ in rows[0])
        wh.con.executemany(f"insert into {table} values ({placeholders})", [list(r) for r in rows])


def stage(wh: Warehouse, kind: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert rows into staging.<kind>, naming only the columns given (the others stay null)."""
    for row in rows:
        columns = ", ".join(f'"{c}"' for c in row)
        placeholders = ", ".join("?" for _ in row)
        wh.execute(f"insert into staging.{kind} ({columns}) values ({placeholders})", list(row.values()))


def lookups(
    wh: Warehouse,
    emails: Mapping[str, str | None],
    phones: Mapping[str, str | None],
    names: Sequence[tuple] = (),
    places: Mapping[str, str | None] | None = None,
    births: Sequence[tuple] = (),
) -> None:
    """core.*_lookup as build_lookups and build_attribute_lookups write them: raw -> norm (None: no match)."""
    create(wh, "core.email_lookup", "raw varchar, norm varchar", list(emails.items()))
    create(wh, "core.phone_lookup", "raw varchar, norm varchar", list(phones.items()))
    create(wh, "core.name_lookup", "raw varchar, norm varchar, key varchar", names)
    create(wh, "core.place_lookup", "raw varchar, norm varchar", list((places or {}).items()))
    create(wh, "core.address_lookup", "raw varchar, norm varchar", [])
    create(wh, "core.birth_date_lookup", "raw date, norm date", births)
    # device ids pass through unchanged in these tests: a view over whatever gets staged
    create_tables(wh)
    wh.execute(
        "create or replace view core.device_lookup as select distinct device_id as raw, device_id as norm from ("
        + " union all ".join(
            f"select device_id from staging.{kind}"
            for kind in ("customers", "transactions", "events", "feedback")
        )
        + ") where device_id is not null"
    )


def local(day: date, clock: str = "12:00:00") -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime.fromisoformat(f"{day.isoformat()} {clock}").replace(tzinfo=SHANGHAI)


def columns_of(wh: Warehouse, schema: str, table: str) -> list[str]:
    """The column names of a table or view, in order."""
    return [
        name
        for (name,) in wh.rows(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        )
    ]


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


# ---------------------------------------------------------------------------------------------------------
# core/customer_records
# ---------------------------------------------------------------------------------------------------------


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

    assert wh.build("core.customer_records", "core/customer_records") == 4
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


# ---------------------------------------------------------------------------------------------------------
# core/facts (a view per kind)
# ---------------------------------------------------------------------------------------------------------

FACT_EMAILS = {"A@X.com": "a@x.com", "a@x.com": "a@x.com", "test@test.com": None, "not an email": None}
FACT_PHONES = {"138-0013-8001": "+8613800138001", "13800000000": None}


def fact_rows(row_id: str) -> list[dict[str, object]]:
    """One row per record-key rule, for the kind whose id field is row_id."""
    ts = local(date(2026, 1, 2))

    def row(
        source: str,
        file: str,
        number: int,
        fact_id: str | None,
        customer_ref: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        device_id: str | None = None,
    ) -> dict[str, object]:
        return {
            "source": source,
            "_file": file,
            "_row": number,
            row_id: fact_id,
            "customer_ref": customer_ref,
            "email": email,
            "phone": phone,
            "device_id": device_id,
            "ts": ts,
        }

    app, shop, kiosk = "/data/app/2026-01.csv", "/data/shop/s.csv", "/data/kiosk/k.csv"
    return [
        # a customer_ref into the source's customers source, whatever identifiers come with it
        row("app", app, 1, "x1", customer_ref="m1", email="a@x.com", device_id="dev1"),
        # no customer_ref: the best normalized identifier, email before phone before device
        row("app", app, 2, "x2", email="A@X.com", phone="138-0013-8001", device_id="dev1"),
        row("app", app, 3, "x3", email="test@test.com", phone="138-0013-8001", device_id="dev1"),
        row("app", app, 4, "x4", email="test@test.com", phone="13800000000", device_id="dev2"),
        # only placeholders or invalid values: a record of its own, by id, else by file name and row
        row("app", app, 5, "x5", email="test@test.com", phone="13800000000"),
        row("app", app, 6, None, email="not an email"),
        # a raw value missing from the lookup counts as not normalized
        row("app", app, 7, None, phone="unknown-raw"),
        # a source without customer_source: the customer_ref is a record of the source itself
        row("shop", shop, 1, "y1", customer_ref="u7", email="a@x.com"),
        row("shop", shop, 2, "y2", email="a@x.com"),
        # a source missing from core.source_links behaves the same
        row("kiosk", kiosk, 1, "z1", customer_ref="k1"),
    ]


@pytest.mark.parametrize("kind", FACT_KINDS)
def test_facts_record_key_derivation(wh: Warehouse, kind: str) -> None:
    row_id = ID_FIELDS[kind]
    create_tables(wh)
    lookups(wh, FACT_EMAILS, FACT_PHONES)
    create(
        wh, "core.source_links", "source varchar, customer_source varchar", [("app", "crm"), ("shop", None)]
    )
    stage(wh, kind, fact_rows(row_id))
    wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": row_id})

    staged = columns_of(wh, "staging", kind)
    assert columns_of(wh, "core", kind) == [
        *staged,
        "email_norm",
        "phone_norm",
        "device_norm",
        "record_source",
        "record_id",
    ]
    assert wh.rows(
        f"select source, _row, {row_id}, email_norm, phone_norm, record_source, record_id "
        f"from core.{kind} order by source, _row"
    ) == [
        ("app", 1, "x1", "a@x.com", None, "crm", "m1"),
        ("app", 2, "x2", "a@x.com", "+8613800138001", "app", "email:a@x.com"),
        ("app", 3, "x3", None, "+8613800138001", "app", "phone:+8613800138001"),
        ("app", 4, "x4", None, None, "app", "device:dev2"),
        ("app", 5, "x5", None, None, "app", "row:x5"),
        ("app", 6, None, None, None, "app", "row:/data/app/2026-01.csv:6"),
        ("app", 7, None, None, None, "app", "row:/data/app/2026-01.csv:7"),
        ("kiosk", 1, "z1", None, None, "kiosk", "k1"),
        ("shop", 1, "y1", "a@x.com", None, "shop", "u7"),
        ("shop", 2, "y2", "a@x.com", None, "shop", "email:a@x.com"),
    ]


def test_facts_rows_without_id_in_same_named_files_of_two_folders_stay_apart(wh: Warehouse) -> None:
    create_tables(wh)
    lookups(wh, FACT_EMAILS, FACT_PHONES)
    create(wh, "core.source_links", "source varchar, customer_source varchar", [("app", "crm")])
    # daily exports, each in its own folder under the same file name (source path: app/*/export.csv)
    stage(
        wh,
        "transactions",
        [
            {"source": "app", "_file": f"/data/app/{day}/export.csv", "_row": 3, "email": "test@test.com"}
            for day in ("2026-01-01", "2026-01-02")
        ],
    )
    wh.build_view("core.transactions", "core/facts", identifiers={"kind": "transactions", "row_id": "txn_id"})
    assert wh.scalar("select count(distinct record_id) from core.transactions") == 2


def test_facts_view_rejects_an_identifier_that_is_not_a_plain_name(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="not a safe table name"):
        wh.build_view(
            "core.transactions", "core/facts", identifiers={"kind": "transactions; drop", "row_id": "txn_id"}
        )


# ---------------------------------------------------------------------------------------------------------
# core/record_observations
# ---------------------------------------------------------------------------------------------------------

OBSERVATIONS_CUTOFF = datetime(2026, 1, 11, tzinfo=SHANGHAI)  # end of as_of 2026-01-10
KEYED_COLUMNS = "email_norm varchar, phone_norm varchar, device_id varchar"


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


# ---------------------------------------------------------------------------------------------------------
# core/customers (the golden record)
# ---------------------------------------------------------------------------------------------------------

CUSTOMER_RECORD_COLUMNS = (
    "source varchar, source_id varchar, full_name varchar, gender varchar, birth_date_norm date, "
    "email varchar, email_norm varchar, phone_norm varchar, city varchar, province varchar, "
    "signup_ts timestamptz, updated_at timestamptz, marketing_consent boolean"
)


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
    create(wh, "core.customer_records", CUSTOMER_RECORD_COLUMNS, records)
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


# ---------------------------------------------------------------------------------------------------------
# segments/customer_segments
# ---------------------------------------------------------------------------------------------------------

SEGMENTS_AS_OF = date(2026, 3, 31)
FEATURE_COLUMNS = (
    "customer_id varchar, as_of date, recency_days bigint, frequency bigint, monetary decimal(38,2), "
    "first_purchase_date date, last_purchase_date date, payments_30d bigint, payments_90d bigint, "
    "payments_180d bigint, sessions_30d bigint, sessions_90d bigint, sessions_180d bigint, "
    "sessions_total bigint, favourite_game varchar, last_active_date date, marketing_consent boolean"
)
SEGMENT_COLUMNS = [
    "as_of",
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "rfm_segment_zh",
    "rfm_cn_class",
    "rfm_cn_class_en",
    "value_tier",
    "value_tier_zh",
    "lifecycle_stage",
    "lifecycle_stage_zh",
    "rule_segments",
    "rule_segments_zh",
    "cluster_id",
    "cluster_name",
    "cluster_name_zh",
    "first_purchase_date",
    "last_purchase_date",
    "payments_30d",
    "payments_90d",
    "payments_180d",
    "sessions_30d",
    "sessions_90d",
    "sessions_180d",
    "favourite_game",
    "last_active_date",
    "marketing_consent",
]


def segment_inputs(wh: Warehouse, as_of: date = SEGMENTS_AS_OF) -> None:
    """C1 and C2 bought (scored), C3 did not; all three are clustered."""
    d = {n: as_of - timedelta(days=n) for n in (0, 3, 10, 40, 200)}
    create(
        wh,
        "features.customer_features",
        FEATURE_COLUMNS,
        [
            ("C1", as_of, 3, 4, Decimal("520.00"), d[200], d[3], 1, 2, 3, 5, 9, 12, 30, "麻将", d[0], True),
            ("C2", as_of, 40, 1, Decimal("-0.50"), d[40], d[40], 0, 1, 1, 0, 0, 0, 0, None, d[10], False),
            ("C3", as_of, None, None, None, None, None, 0, 0, 0, 2, 2, 2, 2, "斗地主", d[3], False),
        ],
    )
    create(
        wh,
        "segments.rfm_scores",
        "customer_id varchar, r_score integer, f_score integer, m_score integer, fm_score integer, "
        "rfm_segment varchar, rfm_segment_zh varchar",
        [("C1", 5, 5, 5, 5, "Champions", "冠军客户"), ("C2", 1, 1, 1, 1, "Lost", "已流失客户")],
    )
    write_rule_table(wh)  # segments.rfm_fallback
    create(
        wh,
        "segments.clusters",
        "customer_id varchar, cluster_id integer, cluster_name varchar, cluster_name_zh varchar",
        [("C1", 0, "big", "大"), ("C2", 1, "small", "小"), ("C3", 2, "free", "免费")],
    )
    create(
        wh,
        "segments.rfm_cn_classes",
        "customer_id varchar, rfm_cn_class varchar, rfm_cn_class_en varchar",
        [("C1", "重要价值客户", "Important Value"), ("C2", "一般挽留客户", "General Win-back")],
    )
    create(
        wh,
        "segments.value_lifecycle",
        "customer_id varchar, value_tier varchar, value_tier_zh varchar, lifecycle_stage varchar, "
        "lifecycle_stage_zh varchar",
        [
            ("C1", "high", "高价值", "active", "活跃"),
            ("C2", "low", "低价值", "churned", "流失"),
            ("C3", "none", "未消费", "never_purchased", "未付费"),
        ],
    )
    create(
        wh,
        "segments.rule_memberships",
        "customer_id varchar, segment varchar, label_en varchar, label_zh varchar, priority integer, "
        "exclusive_group varchar",
        [
            ("C1", "high_frequency_players", "High-frequency players", "高频玩家", 10, None),
            ("C3", "high_intent_not_paying", "High intent, never paid", "高意向未付费", 20, None),
            ("C3", "high_frequency_players", "High-frequency players", "高频玩家", 10, None),
        ],
    )


def test_customer_segments_join_features_scores_and_clusters(wh: Warehouse) -> None:
    segment_inputs(wh)
    assert wh.build("segments.customer_segments", "segments/customer_segments") == 3
    assert columns_of(wh, "segments", "customer_segments") == SEGMENT_COLUMNS
    d = {n: SEGMENTS_AS_OF - timedelta(days=n) for n in (0, 3, 10, 40, 200)}
    assert wh.rows("select * from segments.customer_segments order by customer_id") == [
        (
            SEGMENTS_AS_OF,
            "C1",
            3,
            4,
            Decimal("520.00"),
            5,
            5,
            5,
            "Champions",
            "冠军客户",
            "重要价值客户",
            "Important Value",
            "high",
            "高价值",
            "active",
            "活跃",
            "high_frequency_players",
            "高频玩家",
            0,
            "big",
            "大",
            d[200],
            d[3],
            1,
            2,
            3,
            5,
            9,
            12,
            "麻将",
            d[0],
            True,
        ),
        (
            SEGMENTS_AS_OF,
            "C2",
            40,
            1,
            Decimal("-0.50"),
            1,
            1,
            1,
            "Lost",
            "已流失客户",
            "一般挽留客户",
            "General Win-back",
            "low",
            "低价值",
            "churned",
            "流失",
            None,
            None,
            1,
            "small",
            "小",
            d[40],
            d[40],
            0,
            1,
            1,
            0,
            0,
            0,
            None,
            d[10],
            False,
        ),
        # no purchase: no scores, the fallback segment of both RFM schemes, a cluster, still one row
        (
            SEGMENTS_AS_OF,
            "C3",
            None,
            None,
            None,
            None,
            None,
            None,
            "No Purchase",
            "未购买客户",
            "未购买客户",
            "No Purchase",
            "none",
            "未消费",
            "never_purchased",
            "未付费",
            "high_intent_not_paying,high_frequency_players",
            "高意向未付费,高频玩家",
            2,
            "free",
            "免费",
            None,
            None,
            0,
            0,
            0,
            2,
            2,
            2,
            "斗地主",
            d[3],
            False,
        ),
    ]


def test_customer_segments_ignore_scores_of_customers_without_features(wh: Warehouse) -> None:
    segment_inputs(wh)
    wh.execute("insert into segments.rfm_scores values ('C9', 3, 3, 3, 3, 'Need Attention', '需要关注客户')")
    wh.execute("insert into segments.clusters values ('C9', 2, 'x', 'x')")
    wh.build("segments.customer_segments", "segments/customer_segments")
    assert wh.rows(
        "select customer_id, count(*) from segments.customer_segments group by all order by all"
    ) == [
        ("C1", 1),
        ("C2", 1),
        ("C3", 1),
    ]


# ---------------------------------------------------------------------------------------------------------
# published/customer_segments through tasks.publish.publish_tables and write_exports
# ---------------------------------------------------------------------------------------------------------


def build_segments(wh: Warehouse, as_of: date) -> None:
    segment_inputs(wh, as_of)
    wh.build("segments.customer_segments", "segments/customer_segments")
    build_tags(wh)


def published(wh: Warehouse) -> list[tuple]:
    return wh.rows(
        "select as_of, customer_id, rfm_segment, cluster_id, run_id from published.customer_segments order by all"
    )


def runs(wh: Warehouse) -> list[tuple]:
    return wh.rows(
        "select run_id, as_of, config_hash, code_version, rows from published.runs order by published_at, run_id"
    )


def test_publish_tables_replaces_the_same_as_of_and_adds_another(wh: Warehouse) -> None:
    day1, day2 = SEGMENTS_AS_OF, SEGMENTS_AS_OF + timedelta(days=1)
    version = code_version()
    build_segments(wh, day1)
    assert publish_tables(wh, day1, "run-1", "hash-a") == 3
    assert publish_tables(wh, day1, "run-2", "hash-b") == 3  # a rerun of the day replaces its rows
    assert published(wh) == [
        (day1, "C1", "Champions", 0, "run-2"),
        (day1, "C2", "Lost", 1, "run-2"),
        (day1, "C3", "No Purchase", 2, "run-2"),
    ]
    assert columns_of(wh, "published", "customer_segments") == [*SEGMENT_COLUMNS, "run_id"]

    build_segments(wh, day2)
    assert publish_tables(wh, day2, "run-3", "hash-b") == 3  # another day is added
    assert published(wh) == [
        (day1, "C1", "Champions", 0, "run-2"),
        (day1, "C2", "Lost", 1, "run-2"),
        (day1, "C3", "No Purchase", 2, "run-2"),
        (day2, "C1", "Champions", 0, "run-3"),
        (day2, "C2", "Lost", 1, "run-3"),
        (day2, "C3", "No Purchase", 2, "run-3"),
    ]
    assert runs(wh) == [
        ("run-1", day1, "hash-a", version, 3),
        ("run-2", day1, "hash-b", version, 3),
        ("run-3", day2, "hash-b", version, 3),
    ]
    assert wh.scalar("select count(*) from published.runs where published_at is null") == 0
    # tags are published with the day's rows, replaced on a rerun: 8 tags x 3 customers, but C2 has no
    # favourite game, plus one tag per rule membership (3)
    assert wh.rows("select as_of, count(*) from published.customer_tags group by 1 order by 1") == [
        (day1, 26),
        (day2, 26),
    ]


EXPORT_FILES = [
    "customer_segments.csv",
    "customer_segments.parquet",
    "manifest.json",
    "report.md",
    "segment_sizes.csv",
]
EXPORTED_CSV = (
    ",".join(SEGMENT_COLUMNS) + "\n"
    "2026-03-31,C1,3,4,520.00,5,5,5,Champions,冠军客户,重要价值客户,Important Value,high,高价值,active,活跃,"
    "high_frequency_players,高频玩家,0,big,大,2025-09-12,2026-03-28,1,2,3,5,9,12,麻将,2026-03-31,true\n"
    "2026-03-31,C2,40,1,-0.50,1,1,1,Lost,已流失客户,一般挽留客户,General Win-back,low,低价值,churned,流失,"
    ",,1,small,小,2026-02-19,2026-02-19,0,1,1,0,0,0,,2026-03-21,false\n"
    "2026-03-31,C3,,,,,,,No Purchase,未购买客户,未购买客户,No Purchase,none,未消费,never_purchased,未付费,"
    '"high_intent_not_paying,high_frequency_players","高意向未付费,高频玩家",2,free,免费,,,0,0,0,2,2,2,斗地主,2026-03-28,'
    "false\n"
)
EXPORTED_SIZES = "rfm_segment,rfm_segment_zh,customers\nChampions,冠军客户,1\nLost,已流失客户,1\nNo Purchase,未购买客户,1\n"


def csv_text(path: Path) -> str:
    """A CSV export, which must start with the UTF-8 BOM, as text."""
    data = path.read_bytes()
    assert data.startswith(UTF8_BOM)
    return data[len(UTF8_BOM) :].decode("utf-8")


def visible(exports: Path) -> list[str]:
    """The published day folders (links into .versions/), without anything hidden."""
    return sorted(p.name for p in exports.iterdir() if not p.name.startswith("."))


def versions(exports: Path, day: str) -> list[str]:
    """All version folders kept for a day, temporary ones included."""
    folder = exports / ".versions" / day
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_write_exports_writes_five_files_and_a_matching_manifest(wh: Warehouse, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")

    result = write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "# 报告\n")

    folder = exports / "2026-03-31"
    assert (result.as_of, result.rows, result.export_dir) == (SEGMENTS_AS_OF, 3, str(folder))
    assert visible(exports) == ["2026-03-31"]
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == dict.fromkeys(
        EXPORT_FILES, 0o600
    )
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    assert csv_text(folder / "customer_segments.csv") == EXPORTED_CSV
    assert csv_text(folder / "segment_sizes.csv") == EXPORTED_SIZES
    assert (folder / "report.md").read_text(encoding="utf-8") == "# 报告\n"
    rows = wh.frame("select * exclude (run_id) from published.customer_segments order by customer_id")
    assert pl.read_parquet(folder / "customer_segments.parquet").equals(rows)
    assert pl.read_csv(folder / "customer_segments.csv", schema=rows.schema).equals(rows)

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = {
        name: {
            "rows": rows,
            "bytes": (folder / name).stat().st_size,
            "sha256": hashlib.sha256((folder / name).read_bytes()).hexdigest(),
        }
        for name, rows in [
            ("customer_segments.parquet", 3),
            ("customer_segments.csv", 3),
            ("segment_sizes.csv", 3),
            ("report.md", None),
        ]
    }
    assert manifest == {
        "as_of": "2026-03-31",
        "run_id": "run-1",
        "config_hash": "hash-a",
        "code_version": code_version(),
        "created_at": manifest["created_at"],
        "row_counts": {"customer_segments": 3, "segment_sizes": 3},
        "files": files,
    }
    assert list(manifest["files"]) == [
        "customer_segments.parquet",
        "customer_segments.csv",
        "segment_sizes.csv",
        "report.md",
    ]
    assert result.files == files
    assert datetime.fromisoformat(manifest["created_at"]).utcoffset() == timedelta(0)


def test_write_exports_again_replaces_the_folder_and_leaves_no_temporary_folders(
    wh: Warehouse, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    (exports / "2026-03-31" / "stale.txt").write_text("left by hand", encoding="utf-8")

    wh.execute(
        "update segments.customer_segments set rfm_segment = 'Lost', rfm_segment_zh = '已流失客户' "
        "where customer_id = 'C1'"
    )
    publish_tables(wh, SEGMENTS_AS_OF, "run-2", "hash-b")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-b", "second\n")

    folder = exports / "2026-03-31"
    assert visible(exports) == ["2026-03-31"]  # no .<as_of>.*.tmp or .old
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    assert (folder / "report.md").read_text(encoding="utf-8") == "second\n"
    assert csv_text(folder / "segment_sizes.csv") == (
        "rfm_segment,rfm_segment_zh,customers\nLost,已流失客户,2\nNo Purchase,未购买客户,1\n"
    )
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["run_id"], manifest["config_hash"]) == ("run-2", "hash-b")

    # the same run again (a task retry): same result, still nothing left beside the folder
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-b", "second\n")
    assert visible(exports) == ["2026-03-31"]
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    # the day is a link to the current version; the previous version is kept, older ones removed
    kept = versions(exports, "2026-03-31")
    assert len(kept) == 2 and not any(name.startswith(".") for name in kept)
    assert folder.is_symlink() and folder.resolve().name == kept[-1]
    assert [p.name for p in exports.iterdir() if p.name.startswith(".") and p.name != ".versions"] == []


def test_write_exports_of_another_day_keeps_the_first(wh: Warehouse, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    day2 = SEGMENTS_AS_OF + timedelta(days=1)
    for day, run in ((SEGMENTS_AS_OF, "run-1"), (day2, "run-2")):
        build_segments(wh, day)
        publish_tables(wh, day, run, "hash-a")
        write_exports(wh, exports, day, run, "hash-a", f"{day}\n")
    assert visible(exports) == ["2026-03-31", "2026-04-01"]
    for day in (SEGMENTS_AS_OF, day2):
        exported = pl.read_parquet(exports / day.isoformat() / "customer_segments.parquet")
        assert exported.select("as_of", "customer_id").rows() == [(day, "C1"), (day, "C2"), (day, "C3")]
        assert (exports / day.isoformat() / "report.md").read_text(encoding="utf-8") == f"{day}\n"


def fail_to_sync(frame: object, path: Path) -> None:
    raise OSError(28, "No space left on device", str(path))


def test_write_exports_that_fails_keeps_the_previous_folder(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    monkeypatch.setattr("tasks.publish.write_file", fail_to_sync)
    with pytest.raises(OSError, match="No space left on device"):
        write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-a", "second\n")
    folder = exports / "2026-03-31"
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    assert (folder / "report.md").read_text(encoding="utf-8") == "first\n"
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["run_id"] == "run-1"


def test_write_exports_that_fails_leaves_no_temporary_folder(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    monkeypatch.setattr("tasks.publish.write_file", fail_to_sync)
    with pytest.raises(OSError, match="No space left on device"):
        write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    assert visible(exports) == []


def test_publish_adds_columns_a_newer_model_has(wh: Warehouse) -> None:
    # a warehouse published by an older version: fewer columns
    wh.execute(
        "create table published.customer_segments as "
        "select date '2026-03-30' as as_of, 'C1' as customer_id, 'Champions' as rfm_segment, 'old-run' as run_id"
    )
    build_segments(wh, SEGMENTS_AS_OF)
    assert publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a") == 3
    assert columns_of(wh, "published", "customer_segments")[:4] == [
        "as_of",
        "customer_id",
        "rfm_segment",
        "run_id",
    ]
    assert set(SEGMENT_COLUMNS) <= set(columns_of(wh, "published", "customer_segments"))
    assert wh.rows(
        "select as_of, customer_id, value_tier from published.customer_segments order by as_of, customer_id"
    ) == [
        (date(2026, 3, 30), "C1", None),  # the older day keeps what it had
        (SEGMENTS_AS_OF, "C1", "high"),
        (SEGMENTS_AS_OF, "C2", "low"),
        (SEGMENTS_AS_OF, "C3", "none"),
    ]


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
