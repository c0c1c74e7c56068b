"""Model tests of act/audience_members, act/audience_sizes and act/campaign_outcomes: holdouts and outcomes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from tasks.act import build_audiences, ensure_act_tables, measure_outcomes
from tasks.shared.config import ActConfig, AudienceConfig, PipelineConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

DAY = date(2026, 6, 1)


def audience(name: str, segment: str, **extra) -> AudienceConfig:
    return AudienceConfig(name=name, label_en=name, label_zh=name, segment=segment, **extra)


def act_config(**extra) -> ActConfig:
    return ActConfig(
        lookalikes=[],
        audiences=[
            audience("rescue", "rules:churn_warning", priority=30),
            audience("vip", "tier:high", priority=10, holdout_share=0.10),
        ],
        **extra,
    )


def memberships(wh: Warehouse, rows: list[tuple[str, str, str]]) -> None:
    frame = pl.DataFrame(rows, schema=["scheme", "segment", "customer_id"], orient="row")
    wh.write_frame("act.segment_memberships", frame)


def publish(wh: Warehouse, as_of: date) -> None:
    """What publish does with the day's audience members."""
    wh.execute("delete from published.audience_members where as_of = ?", [as_of])
    wh.insert("published.audience_members", "published/audience_members", {"as_of": as_of, "run_id": "r"})


def ids(n: int, start: int = 0) -> list[str]:
    return [f"C{i:06d}" for i in range(start, start + n)]


def test_holdout_share_is_the_configured_one_and_stable_across_days(wh: Warehouse) -> None:
    ensure_act_tables(wh)
    config = act_config()
    memberships(wh, [("rules", "churn_warning", c) for c in ids(100_000)])
    sizes = build_audiences(wh, config, DAY)
    assert sizes == [
        {
            "audience": "rescue",
            "label_zh": "rescue",
            "label_en": "rescue",
            "segment": "rules:churn_warning",
            "holdout_share": 0.05,
            "members": 100_000,
            "holdout": sizes[0]["holdout"],
            "entered": 100_000,
            "exited": 0,
        },
        {
            "audience": "vip",
            "label_zh": "vip",
            "label_en": "vip",
            "segment": "tier:high",
            "holdout_share": 0.10,
            "members": 0,
            "holdout": 0,
            "entered": 0,
            "exited": 0,
        },
    ]
    assert abs(sizes[0]["holdout"] / 100_000 - 0.05) <= 0.005  # within ±0.5 points
    day1 = dict(wh.rows("select customer_id, holdout from act.audience_members"))
    publish(wh, DAY)

    # day 2: 20,000 left, 30,000 new; the 80,000 who stayed keep their holdout flag and entry day
    memberships(wh, [("rules", "churn_warning", c) for c in ids(110_000, start=20_000)])
    sizes = build_audiences(wh, config, DAY + timedelta(days=1))
    assert [sizes[0][k] for k in ("members", "entered", "exited")] == [110_000, 30_000, 20_000]
    day2 = {
        c: (holdout, entered)
        for c, holdout, entered in wh.rows(
            "select customer_id, holdout, entered_on from act.audience_members"
        )
    }
    stayed = ids(80_000, start=20_000)
    assert all(day2[c] == (day1[c], DAY) for c in stayed)
    assert abs(sizes[0]["holdout"] / 110_000 - 0.05) <= 0.005

    # a new salt draws another group of about the same size
    build_audiences(wh, act_config(holdout_salt="another"), DAY + timedelta(days=1))
    redrawn = dict(wh.rows("select customer_id, holdout from act.audience_members"))
    both = sum(1 for c in stayed if redrawn[c] and day2[c][0])
    assert abs(sum(redrawn.values()) / 110_000 - 0.05) <= 0.005
    assert both < 0.1 * sum(redrawn[c] for c in stayed)  # independent draws overlap about 5% of the time


def test_each_audience_draws_its_own_holdout(wh: Warehouse) -> None:
    ensure_act_tables(wh)
    people = ids(20_000)
    memberships(wh, [("rules", "churn_warning", c) for c in people] + [("tier", "high", c) for c in people])
    build_audiences(wh, act_config(), DAY)
    shares = dict(wh.rows("select audience, avg(holdout::int) from act.audience_members group by all"))
    assert abs(shares["rescue"] - 0.05) <= 0.005
    assert abs(shares["vip"] - 0.10) <= 0.005
    both = wh.scalar(
        "select count(*) from act.audience_members a join act.audience_members b using (customer_id) "
        "where a.audience = 'rescue' and b.audience = 'vip' and a.holdout and b.holdout"
    )
    assert both < 200  # independent: about 0.05 * 0.10 * 20,000 = 100


def outcome_world(wh: Warehouse) -> None:
    """Empty inputs of the outcome model: orders, the daily activity roll-up, identity map, id redirects."""
    create(
        wh,
        "features.orders",
        "customer_id varchar, order_date date, net_amount decimal(18,2), purchase boolean",
        [],
    )
    create(wh, "core.identity_map", "source varchar, source_id varchar, customer_id varchar", [])
    create(
        wh,
        "features.daily_activity",
        "record_source varchar, record_id varchar, activity_date date, event_type varchar, events bigint",
        [],
    )
    create(wh, "core.customer_id_redirects", "customer_id varchar, current_customer_id varchar", [])


def pipeline(tmp_path, **act) -> PipelineConfig:
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
            "act": {
                "lookalikes": [],
                "audiences": [
                    {"name": "rescue", "label_en": "r", "label_zh": "r", "segment": "rules:churn_warning"}
                ],
                **act,
            },
        }
    )


def test_campaign_outcomes_exact_on_a_few_entries(wh: Warehouse, tmp_path) -> None:
    ensure_act_tables(wh)
    outcome_world(wh)
    entered = DAY
    create(
        wh,
        "published.audience_members",
        "as_of date, audience varchar, customer_id varchar, holdout boolean, entered_on date, run_id varchar",
        [
            (entered, "rescue", "T1", False, entered, "r"),
            (entered, "rescue", "T2", False, entered, "r"),
            (entered, "rescue", "T3", False, entered, "r"),
            (entered, "rescue", "T4", False, entered, "r"),
            (entered, "rescue", "H1", True, entered, "r"),
            (entered, "rescue", "H2", True, entered, "r"),
            # still a member the next day: not a new entry
            (entered + timedelta(days=1), "rescue", "T1", False, entered, "r"),
            # entered 10 days before as_of: its 30-day window has not ended
            (entered + timedelta(days=20), "rescue", "T9", False, entered + timedelta(days=20), "r"),
        ],
    )
    wh.execute("insert into core.customer_id_redirects values ('T4', 'M4')")  # T4 merged into M4 since
    wh.con.executemany(
        "insert into features.orders values (?, ?, ?, ?)",
        [
            ("T1", entered + timedelta(days=1), 30, True),
            ("T1", entered + timedelta(days=5), 10, True),
            ("T2", entered, 99, True),  # on the entry day: before the window
            ("M4", entered + timedelta(days=30), 20, True),  # last day of the window, under the new id
            ("H1", entered + timedelta(days=31), 50, True),  # after the window
            ("H2", entered + timedelta(days=2), 12, True),
            ("T9", entered + timedelta(days=21), 70, True),
        ],
    )
    create(
        wh,
        "act.audiences",
        "audience varchar, label_en varchar, label_zh varchar, scheme varchar, segment varchar, "
        "priority integer, position integer, holdout_share double",
        [("rescue", "Rescue", "挽回", "rules", "churn_warning", 1, 0, 0.05)],
    )
    as_of = entered + timedelta(days=30)
    rows = {r["metric"]: r for r in measure_outcomes(wh, pipeline(tmp_path, outcome_min_group=2), as_of)}
    conversion = rows["conversion"]
    assert {
        k: conversion[k]
        for k in ("audience", "label_zh", "window_days", "entries_from", "entries_to", "treated", "holdout")
    } == {
        "audience": "rescue",
        "label_zh": "挽回",
        "window_days": 30,
        "entries_from": entered,
        "entries_to": entered,
        "treated": 4,
        "holdout": 2,
    }
    # treated: T1 and M4 converted (2 of 4); holdout: H2 (1 of 2)
    assert conversion["treated_value"] == 0.5
    assert conversion["holdout_value"] == 0.5
    assert conversion["difference"] == 0.0
    se = np.sqrt(np.var([1, 0, 0, 1], ddof=1) / 4 + np.var([0, 1], ddof=1) / 2)
    assert conversion["standard_error"] == pytest.approx(se)
    assert conversion["ci_low"] == pytest.approx(-1.959963984540054 * se)
    revenue = rows["revenue_per_member"]
    assert revenue["treated_value"] == pytest.approx((40 + 0 + 0 + 20) / 4)
    assert revenue["holdout_value"] == pytest.approx((0 + 12) / 2)
    assert revenue["difference"] == pytest.approx(15 - 6)
    assert rows["retention"]["treated_value"] == 0.0  # no sessions at all

    # sessions (rolled up by local day): T2 plays in its window (twice on one day), H1 only after it, a login
    # is no session
    wh.execute("insert into core.identity_map values ('game', 'g2', 'T2'), ('game', 'h1', 'H1')")
    wh.con.executemany(
        "insert into features.daily_activity values (?, ?, ?, ?, ?)",
        [
            ("game", "g2", date(2026, 6, 4), "session", 2),
            ("game", "h1", date(2026, 7, 2), "session", 1),
            ("game", "h1", date(2026, 6, 4), "login", 1),
        ],
    )
    rows = {r["metric"]: r for r in measure_outcomes(wh, pipeline(tmp_path), as_of)}
    assert rows["conversion"]["ci_low"] is None  # 2 held-out entries: fewer than 30, no interval
    assert rows["conversion"]["standard_error"] == pytest.approx(se)
    assert (rows["retention"]["treated_value"], rows["retention"]["holdout_value"]) == (0.25, 0.0)


def test_a_planted_campaign_effect_is_recovered_within_its_interval(wh: Warehouse, tmp_path) -> None:
    """40,000 entries, 5% held out; conversion 20% without contact and 26% with it: truth +6 points."""
    ensure_act_tables(wh)
    outcome_world(wh)
    people = ids(40_000)
    memberships(wh, [("rules", "churn_warning", c) for c in people])
    build_audiences(wh, ActConfig(lookalikes=[], audiences=[audience("rescue", "rules:churn_warning")]), DAY)
    publish(wh, DAY)
    members = wh.frame("select customer_id, holdout from act.audience_members order by customer_id")
    rng = np.random.default_rng(7)
    rate = np.where(members["holdout"].to_numpy(), 0.20, 0.26)
    converted = rng.random(members.height) < rate
    amounts = rng.gamma(2.0, 25.0, members.height).round(2)
    orders = pl.DataFrame(
        {
            "customer_id": members["customer_id"],
            "order_date": [DAY + timedelta(days=int(d)) for d in rng.integers(1, 31, members.height)],
            "net_amount": amounts,
            "purchase": True,
        }
    ).filter(pl.Series(converted))
    wh.write_frame("_orders", orders)
    wh.execute(
        "insert into features.orders select customer_id, order_date, net_amount, purchase from _orders"
    )
    rows = {r["metric"]: r for r in measure_outcomes(wh, pipeline(tmp_path), DAY + timedelta(days=30))}
    conversion = rows["conversion"]
    assert conversion["treated"] + conversion["holdout"] == 40_000
    assert abs(conversion["holdout"] / 40_000 - 0.05) <= 0.005
    assert conversion["ci_low"] < 0.06 < conversion["ci_high"]
    assert conversion["ci_low"] > 0  # and the effect is told apart from none
    # revenue per member: 50 on average per converted member, so the truth is 0.06 * 50 = 3.0
    revenue = rows["revenue_per_member"]
    assert revenue["ci_low"] < 3.0 < revenue["ci_high"]


def test_a_customer_counts_once_per_audience_and_window(wh: Warehouse, tmp_path) -> None:
    """Ids merged since and a customer who left and came back: their purchases are counted once."""
    ensure_act_tables(wh)
    outcome_world(wh)
    create(
        wh,
        "published.audience_members",
        "as_of date, audience varchar, customer_id varchar, holdout boolean, entered_on date, run_id varchar",
        [
            (DAY, "rescue", "A", False, DAY, "r"),
            (DAY, "rescue", "B", True, DAY, "r"),  # B, held out, merged into A's survivor M since
            (DAY, "rescue", "C", False, DAY, "r"),
            (DAY + timedelta(days=5), "rescue", "C", False, DAY + timedelta(days=5), "r"),  # came back
        ],
    )
    wh.execute("insert into core.customer_id_redirects values ('A', 'M'), ('B', 'M')")
    wh.con.executemany(
        "insert into features.orders values (?, ?, ?, ?)",
        [("M", DAY + timedelta(days=3), 100, True), ("C", DAY + timedelta(days=7), 40, True)],
    )
    create(
        wh,
        "act.audiences",
        "audience varchar, label_en varchar, label_zh varchar, scheme varchar, segment varchar, "
        "priority integer, position integer, holdout_share double",
        [("rescue", "Rescue", "挽回", "rules", "churn_warning", 1, 0, 0.05)],
    )
    rows = {r["metric"]: r for r in measure_outcomes(wh, pipeline(tmp_path), DAY + timedelta(days=40))}
    revenue = rows["revenue_per_member"]
    # M once, with A's entry (the first by id); C once, its first entry
    assert (revenue["treated"], revenue["holdout"]) == (2, 0)
    assert revenue["treated_value"] == 70.0
    assert revenue["entries_to"] == DAY


def test_outcome_windows_must_be_shorter_than_the_lookback() -> None:
    with pytest.raises(
        ValueError, match=r"outcome windows \[200\] are not shorter than outcome_lookback_days"
    ):
        ActConfig(lookalikes=[], audiences=[], outcome_windows_days=[30, 200])
