"""Helpers of the model tests: input tables written by hand into an in-memory warehouse, Shanghai wall-clock times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from hashlib import md5
from zoneinfo import ZoneInfo

import polars as pl

from tasks.extract import create_tables
from tasks.segment import build_customer_segments, write_rule_table
from tasks.segment.tags import build_tags
from tasks.shared.warehouse import Warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")


def create(wh: Warehouse, table: str, columns: str, rows: Sequence[tuple], *, temp: bool = False) -> None:
    """Create table with the given column list and insert rows."""
    wh.execute(f"create or replace {'temp ' if temp else ''}table {table} ({columns})")
    if rows:
        placeholders = ", ".join("?" for _ in rows[0])
        wh.con.executemany(f"insert into {table} values ({placeholders})", [list(r) for r in rows])


def local(day: date, clock: str = "12:00:00") -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime.fromisoformat(f"{day.isoformat()} {clock}").replace(tzinfo=SHANGHAI)


def customer_id(source: str, source_id: str) -> str:
    """The id identity_map derives from a cluster's anchor record."""
    return "C" + md5(f"{source}:{source_id}".encode()).hexdigest()[:16]


T0 = datetime(2025, 12, 1, tzinfo=UTC)


def observations(rows: Sequence[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "record_source": pl.String,
            "record_id": pl.String,
            "email_norm": pl.String,
            "phone_norm": pl.String,
            "device_id": pl.String,
            "first_seen": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


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
    "churn_risk",
    "risk_tier",
    "risk_tier_zh",
    "p_alive",
    "expected_purchases_90d",
    "predicted_value_90d",
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


IDENTITY_COLUMNS = (
    "source varchar, source_id varchar, customer_id varchar, match_rule varchar, match_score double, "
    "cluster_size bigint, first_seen timestamptz"
)


def identity_inputs(wh: Warehouse) -> None:
    """core.identity_map of the segments world, unless a test made its own: C1 has two CRM records and one
    made from a device id, C2 a shop customer_ref, C3 only a record made from an e-mail address."""
    if wh.table_exists("core.identity_map"):
        return
    seen = local(SEGMENTS_AS_OF - timedelta(days=200))
    create(
        wh,
        "core.identity_map",
        IDENTITY_COLUMNS,
        [
            ("crm", "M2", "C1", "phone", 1.0, 3, seen),
            ("game", "device:d1", "C1", "device", 1.0, 3, seen),
            ("crm", "M10", "C1", "anchor", None, 3, seen),
            ("shop", "1002", "C2", "anchor", None, 1, seen),
            ("payments", "email:c3@example.com", "C3", "anchor", None, 1, seen),
        ],
    )


def build_segments(wh: Warehouse, as_of: date) -> None:
    identity_inputs(wh)
    segment_inputs(wh, as_of)
    build_customer_segments(wh)
    build_tags(wh)


KEYED_COLUMNS = "email_norm varchar, phone_norm varchar, device_id varchar"


def roll_up(wh: Warehouse) -> None:
    """features.daily_activity of core.events, as the features stage builds it (what predict and act read
    of the events)."""
    wh.build("features.daily_activity", "features/daily_activity", identifiers={"events": "core.events"})
