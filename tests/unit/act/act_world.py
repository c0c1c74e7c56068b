"""A small world the whole act stage runs on: features, segments and interactions of 400 customers as of a day.

The world of a day is a function of the day alone (seeded by it), so the same day can be rebuilt in
another warehouse: what a later day holds (new plays, changed features) differs from an earlier day's,
as a daily refresh's inputs do. Nothing here is published: audiences have no previous day.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from tasks.shared.config import DEFAULT_RULES, PipelineConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create, local, roll_up

CUSTOMERS = 400
ITEMS = ("mahjong", "doudizhu", "poker", "slots", "racing", "puzzle")
FEATURES = (
    "customer_id varchar, as_of date, recency_days bigint, frequency bigint, monetary decimal(38,2), "
    "payments_30d bigint, payments_90d bigint, payments_180d bigint, sessions_30d bigint, sessions_90d bigint, "
    "sessions_180d bigint, sessions_total bigint, session_minutes_90d double, engagements_total bigint, "
    "avg_feedback_score double, feedback_count bigint, last_active_date date, first_seen_date date"
)
SEGMENTS = (
    "customer_id varchar, rfm_segment varchar, rfm_cn_class varchar, value_tier varchar, lifecycle_stage varchar, "
    "rule_segments varchar, cluster_id integer, risk_tier varchar"
)
START = date(2026, 1, 1)


def fill(wh: Warehouse, table: str, columns: str, rows: list[tuple]) -> None:
    """create(), through a frame: thousands of rows in a blink."""
    wh.execute(f"create or replace table {table} ({columns})")
    names = [column.split()[0] for column in columns.split(", ")]
    if rows:
        wh.con.register("_rows", pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None))
        wh.execute(f"insert into {table} by name select * from _rows")
        wh.con.unregister("_rows")


def customer(i: int) -> str:
    return f"C{i:04d}"


def build_world(wh: Warehouse, as_of: date) -> None:
    """Replace the act stage's inputs with the world as of as_of (everything before the end of that day)."""
    rng = np.random.default_rng(0)  # the customers' traits: the same every day
    spend = rng.gamma(1.5, 300.0, CUSTOMERS)
    taste = rng.integers(0, 2, CUSTOMERS)  # 0: card games, 1: the rest
    activity = rng.uniform(0.2, 1.0, CUSTOMERS)
    day_rng = np.random.default_rng((as_of - START).days)  # today's drift
    drift = day_rng.normal(0, 20.0, CUSTOMERS)
    features, segments, plays, purchases = [], [], [], []
    for i in range(CUSTOMERS):
        money = max(spend[i] + drift[i], 0.0)
        frequency = int(1 + money // 150)
        high = money > 600
        features.append(
            (
                customer(i), as_of, int(5 + 60 * (1 - activity[i])), frequency, round(money, 2),
                frequency // 3, frequency // 2, frequency, int(10 * activity[i]), int(30 * activity[i]),
                int(60 * activity[i]), int(90 * activity[i]), 120.0 * activity[i], i % 7,
                None if i % 5 == 0 else 3.0 + (i % 3), i % 4, as_of - timedelta(days=int(9 * (1 - activity[i]))),
                START - timedelta(days=i),
            )
        )  # fmt: skip
        segments.append(
            (
                customer(i), ("Champions", "Loyal", "At Risk")[i % 3], None, "high" if high else "low", "active",
                "card_fans" if taste[i] == 0 else None, None, None,
            )
        )  # fmt: skip
        mine = ITEMS[:3] if taste[i] == 0 else ITEMS[3:]
        # plays from START to as_of: customer i plays every few days, one of their kind of items
        for n, day in enumerate(range(0, (as_of - START).days + 1, 3 + i % 4)):
            item = mine[(i + n) % (2 + i % 2)] if (i + n) % 11 else ITEMS[(i + n) % len(ITEMS)]
            plays.append(("game", f"g{i}", local(START + timedelta(days=day)), "session", item, 60.0))
        if high:
            purchases.append(("shop", f"s{i}", local(as_of - timedelta(days=i % 40)), 30, "paid", mine[-1]))
    fill(wh, "features.customer_features", FEATURES, features)
    fill(wh, "segments.customer_segments", SEGMENTS, segments)
    fill(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [(source, f"{source[0]}{i}", customer(i)) for i in range(CUSTOMERS) for source in ("game", "shop")],
    )
    fill(
        wh,
        "core.events",
        "record_source varchar, record_id varchar, ts timestamptz, event_type varchar, category varchar, "
        "duration_s double",
        plays,
    )
    roll_up(wh)
    fill(
        wh,
        "core.transactions",
        "record_source varchar, record_id varchar, ts timestamptz, amount decimal(18,2), status varchar, "
        "category varchar",
        purchases,
    )
    create(wh, "core.customer_id_redirects", "customer_id varchar, current_customer_id varchar", [])
    create(
        wh, "features.orders", "customer_id varchar, order_date date, purchase boolean, net_amount double", []
    )


CARD_FANS = {"name": "card_fans", "label_en": "Card fans", "label_zh": "牌迷", "when": "sessions_90d >= 1"}


def pipeline(tmp_path, **act) -> PipelineConfig:
    """A pipeline config whose act stage has one lookalike (of tier:high) and two audiences."""
    settings = {
        "lookalikes": [{"name": "hv", "label_en": "HV", "label_zh": "高", "seed": "tier:high"}],
        "audiences": [
            {"name": "vip", "label_en": "VIP", "label_zh": "贵宾", "segment": "tier:high"},
            {"name": "like", "label_en": "Like", "label_zh": "像", "segment": "lookalike:hv", "priority": 5},
        ],
        "recommendations": {"evaluation_days": 14},
    } | act
    return PipelineConfig.model_validate(
        {
            "warehouse": str(tmp_path / "w.duckdb"),
            "sources": [
                {
                    "name": "crm",
                    "kind": "customers",
                    "format": "csv",
                    "path": "x.csv",
                    "columns": {"source_id": "id"},
                }
            ],
            "act": settings,
            # the world's rule segment (rule_segments above) besides the defaults: a seed may name it
            "segments": {"rules": [*(rule.model_dump() for rule in DEFAULT_RULES), CARD_FANS]},
        }
    )


# What a day of the act stage produced, in a comparable order.
OUTPUTS = {
    "act.segment_memberships": "scheme, segment, customer_id",
    "act.lookalike_scores": "lookalike, customer_id",
    "act.recommendations": "customer_id, rank",
    "act.audience_members": "audience, customer_id",
    "act.lookalike_evaluation": "lookalike, top_share",
    "act.recommendation_evaluation": "model",
    "act.campaign_outcomes": "audience, window_days, metric",
}


def outputs(wh: Warehouse) -> dict[str, list[tuple]]:
    """Every row of every table the act stage builds for the day."""
    return {table: wh.rows(f"select * from {table} order by {order}") for table, order in OUTPUTS.items()}
