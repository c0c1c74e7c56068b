"""Cluster names agree with their numbers: purchase words against the purchasers, no word against a tag."""

import json
from datetime import date, timedelta

import numpy as np
import pytest

from tasks.segment import segment_all
from tasks.segment.clusters import FEATURES, members_of, reference_scale
from tasks.segment.naming import ACTIVE_DAYS, Members, cluster_name, name_words, renamed, still_fits
from tasks.shared.config import SegmentConfig
from tasks.shared.warehouse import Warehouse

AS_OF = date(2026, 3, 31)
COLUMNS = (
    "customer_id varchar, as_of date, recency_days bigint, frequency bigint, monetary decimal(18,2), "
    "first_purchase_date date, last_purchase_date date, payments_30d bigint, payments_90d bigint, "
    "payments_180d bigint, sessions_30d bigint, sessions_90d bigint, sessions_180d bigint, sessions_total bigint, "
    "last_session_date date, session_minutes_90d bigint, favourite_game varchar, engagements_total bigint, "
    "last_active_date date, avg_feedback_score double, feedback_count bigint, first_seen_date date, "
    "marketing_consent boolean"
)


def row(i: int) -> tuple[str, int, int, int, int]:
    """(id, days since the last purchase or None, orders, spend, sessions in 30 days) of customer i of 100.

    60 never bought and were last seen 200 days ago; 30 bought once or twice (1.3 orders on average), 27
    of them within 12 days, 3 forty days ago without a session since (the activity tag says 不活跃);
    10 regulars bought 4 to 6 times recently. The purchasers average 2.2 orders.
    """
    if i < 60:
        return f"n{i:02d}", None, 0, 0, 0
    if i < 90:
        days = 40 if i >= 87 else 2 + i % 10
        return f"o{i:02d}", days, 2 if i % 10 < 3 else 1, 30, 0 if days == 40 else 1
    return f"r{i:02d}", 1 + i % 3, 4 + i % 3, 400, 20


def write_features(wh: Warehouse, as_of: date, new_buyers: int = 0) -> None:
    """features.customer_features of the 100 customers of row() as of a day; new_buyers of the 60 bought since."""
    wh.execute(
        f"create schema if not exists features; create or replace table features.customer_features ({COLUMNS})"
    )
    for i in range(100):
        customer, days, orders, spend, sessions = row(i)
        if i < new_buyers:
            days, orders, spend, sessions = 5, 1, 20, 2
        last = as_of - timedelta(days=days) if days is not None else None
        active = last or as_of - timedelta(days=200)
        wh.execute(
            "insert into features.customer_features values "
            "(?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, '麻将', 0, ?, null, 0, ?, false)",
            [customer, as_of, days, orders or None, spend or None, last, last, int(orders > 0), orders]
            + [sessions, 3 * sessions, 3 * sessions, 3 * sessions, last if sessions else None, 30 * sessions]
            + [active if orders or sessions else None, as_of - timedelta(days=300)],
        )


@pytest.fixture
def wh() -> Warehouse:
    warehouse = Warehouse(":memory:")
    write_features(warehouse, AS_OF)
    yield warehouse
    warehouse.close()


def old_words(z: dict[str, float], values: dict[str, float]) -> str:
    """Every word the centroid alone gives (no members to check them against), as the names used to be made."""
    names = [cluster_name(z, values, extra) for extra in range(6)]
    return "".join(name[1] for name in names if name)


def test_one_order_is_not_frequent_next_to_customers_who_never_bought(wh: Warehouse) -> None:
    result = segment_all(wh, SegmentConfig(clusters=3), AS_OF, "run-1")
    clusters = {c["cluster_id"]: c for c in result.cluster_model["clusters"]}
    names = dict(
        wh.rows(
            "select cluster_name_zh, avg(frequency) from segments.customer_segments group by 1 order by 1"
        )
    )
    one_timers = next(c for c in clusters.values() if 1 < c["frequency"] < 2)
    assert names[one_timers["name_zh"]] == pytest.approx(1.3)
    assert wh.scalar("select avg(frequency) from segments.customer_segments") == pytest.approx(2.2)
    # next to everyone (60 of 100 with no order) their 1.3 orders are high: the centroid alone said 高频
    scaler = json.loads(wh.scalar("select scaler from segments.cluster_models"))
    values = {f: float(one_timers[f]) for f in FEATURES}
    z = {f: (np.log1p(values[f]) - scaler["mean"][f]) / scaler["scale"][f] for f in FEATURES}
    assert "高频" in old_words(z, values)
    assert "近期活跃" in old_words(z, values)
    # among the purchasers they buy less than most: not 高频 (nor 高消费); three members are 不活跃: not 近期活跃
    assert not {"高频", "高消费", "近期活跃"} & set(name_words(one_timers["name_zh"]))


def test_no_customer_carries_a_tag_that_contradicts_its_cluster_name(wh: Warehouse) -> None:
    segment_all(wh, SegmentConfig(clusters=3), AS_OF, "run-1")
    rows = wh.rows(
        "select s.customer_id, s.cluster_name_zh, t.value from segments.customer_segments s "
        "join segments.customer_tags t on t.customer_id = s.customer_id and t.tag = 'activity' order by 1"
    )
    # the three who bought forty days ago without a session since are 不活跃, as before
    assert [(c, tag) for c, _, tag in rows if c.startswith("o") and tag == "不活跃"] == [
        ("o87", "不活跃"),
        ("o88", "不活跃"),
        ("o89", "不活跃"),
    ]
    # a purchase 2 to 11 days ago without a session is 低活跃 now (it was 不活跃: sessions alone counted)
    assert {tag for c, _, tag in rows if c.startswith("o") and c not in {"o87", "o88", "o89"}} == {"低活跃"}
    against = {"近期活跃": {"不活跃"}, "常玩": {"不活跃"}, "长时游戏": {"不活跃"}, "少玩": {"高活跃"}}
    against |= {"久未活跃": {"高活跃", "中活跃", "低活跃"}, "短时游戏": {"高活跃"}}
    for customer, name, tag in rows:
        for word in name_words(name) or []:
            assert tag not in against.get(word, set()), (customer, name, tag)
    tiers = wh.rows(
        "select cluster_name_zh, value_tier_zh from segments.customer_segments group by all order by all"
    )
    for name, tier in tiers:
        words = set(name_words(name) or [])
        assert not (words & {"高消费", "高频", "近90天付费"} and tier == "未消费"), (name, tier)
        assert not ("未付费" in words and tier != "未消费"), (name, tier)


def members(**overrides: object) -> Members:
    """A cluster's members, distinctive on nothing and contradicting no word, unless overridden."""
    fields = {
        "z": dict.fromkeys(FEATURES, 0.0),
        "all_active": True,
        "all_inactive": False,
        "all_purchasers": True,
        "no_purchasers": False,
        "below_high_sessions": True,
    }
    return Members(**(fields | overrides))


def test_a_word_needs_the_members_on_its_side_and_no_tag_against_it() -> None:
    z = dict.fromkeys(FEATURES, 0.0) | {"frequency": 1.2, "inactive_days": -0.8}
    values = {"monetary": 50}
    assert cluster_name(z, values) == ("frequent recently active customers", "高频近期活跃客户")
    agreeing = members(z=z)
    assert cluster_name(z, values, members=agreeing) == cluster_name(z, values)
    below_buyers = members(z=z | {"frequency": 0.3})  # distinctive next to everyone, not next to the buyers
    assert cluster_name(z, values, members=below_buyers) == ("recently active customers", "近期活跃客户")
    one_inactive = members(z=z, all_active=False)  # a member without activity in ACTIVE_DAYS days
    assert cluster_name(z, values, members=one_inactive) == ("frequent customers", "高频客户")
    a_non_buyer = members(z=z, all_purchasers=False)
    assert cluster_name(z, values, members=a_non_buyer) == ("recently active customers", "近期活跃客户")
    assert cluster_name(z, {"monetary": 0.5}, members=members(z=z, no_purchasers=True)) == (
        "non-paying recently active customers",
        "未付费近期活跃客户",
    )
    # the centroid spends nothing, but a member bought: not 未付费
    assert cluster_name(z, {"monetary": 0.5}, members=a_non_buyer)[1] == "近期活跃客户"


def test_an_inherited_name_stays_while_its_words_point_the_right_way() -> None:
    z = dict.fromkeys(FEATURES, 0.0) | {"frequency": 0.2, "inactive_days": -0.1}
    assert still_fits("高频近期活跃客户(3)", members(z=z))  # weaker than NAME_Z: kept (no flip-flop)
    assert not still_fits("高频近期活跃客户", members(z=z | {"frequency": -0.1}))
    assert not still_fits("高频近期活跃客户", members(z=z, all_active=False))
    assert still_fits("未付费客户", members(no_purchasers=True))
    assert not still_fits("未付费客户", members())
    assert still_fits("普通客户", members())
    # an inherited name reads in today's words; an earlier version's words are still understood
    assert renamed("high-spending recently paying customers (2)", "高消费近期付费客户(2)") == (
        "high-spending 90-day paying customers (2)",
        "高消费近90天付费客户(2)",
    )
    assert renamed("lapsed long-inactive customers", "近期未付费久未活跃客户") == (
        "90-day non-paying long-inactive customers",
        "近90天未付费久未活跃客户",
    )
    assert name_words("高消费近期付费客户(2)") == ["高消费", "近期付费"]
    assert still_fits("近期付费客户", members(z=z | {"payments_90d": 0.3}))
    assert not still_fits("近期付费客户", members(z=z | {"payments_90d": -0.3}))
    assert still_fits("大", members())  # not a generated name
    assert name_words("近期未付费久未活跃客户") == ["近期未付费", "久未活跃"]


def test_members_of_reads_activity_from_purchases_and_sessions_only() -> None:
    # inactive_days, frequency, monetary, payments_90d, sessions_90d, session_minutes_90d
    rows = np.array([[3, 1, 10, 1, 0, 0], [5, 0, 0, 0, 2, 30]], dtype=float)
    everyone = np.vstack([rows, [[200, 0, 0, 0, 0, 0]] * 2, [[10, 4, 100, 2, 9, 90]] * 4])
    found = members_of(rows, reference_scale(everyone))
    assert (found.all_active, found.all_inactive, found.all_purchasers, found.no_purchasers) == (
        True,
        False,
        False,
        False,
    )
    # first seen 5 days ago and nothing since: inactive_days is 5, but the tag says 不活跃
    unsure = members_of(np.array([[5, 0, 0, 0, 0, 0]], dtype=float), reference_scale(everyone))
    assert (unsure.all_active, unsure.all_inactive) == (False, False)
    assert members_of(
        np.array([[ACTIVE_DAYS, 0, 0, 0, 0, 0]], dtype=float), reference_scale(everyone)
    ).all_inactive
    assert members_of(np.zeros((0, 6)), reference_scale(everyone)) is None
    # frequency compares with the purchasers (mean log1p of 1, 4, 4, 4, 4): one order is below them
    assert found.z["frequency"] < -0.5
