"""Evidence for the campaign outcomes: a planted campaign effect, recovered with its 95% interval.

On a generated sample, the day `entry` is published (audiences with their holdouts). Then a campaign is
planted: each treated (not held out) member of every audience pays once more, with probability `lift`,
at a random time in the `window` days after entry, for a random amount; the held-out members get
nothing. The payments are appended to the payments source as one more file, exactly as a business
system would write them. The day `entry + window` is then published, and its campaign outcomes are
read from published.campaign_outcomes. The truth is known: the treated members' conversion with the
planted payments minus their conversion without them (and their planted revenue per member).
"""

import csv
import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from flows.direct import run_day
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.warehouse import Warehouse

PAYMENTS_HEADER = (
    "txn_id",
    "order_id",
    "member_id",
    "phone",
    "email",
    "amount",
    "currency",
    "status",
    "channel",
    "created_at",
)


def treated_members(config: PipelineConfig, entry: date) -> pl.DataFrame:
    """Members who entered an audience on the entry day, with their holdout flag and CRM member id."""
    with Warehouse.open(config, read_only=True) as wh:
        return wh.frame(
            "select members.audience, members.customer_id, members.holdout, min(identity.source_id) as member_id "
            "from published.audience_members as members "
            "join core.identity_map as identity on identity.customer_id = members.customer_id and identity.source = 'crm' "
            "where members.as_of = $entry and members.entered_on = $entry group by all order by all",
            {"entry": entry},
        )


def plant_campaign(
    sample_dir: Path, members: pl.DataFrame, entry: date, window: int, lift: float, seed: int
) -> pl.DataFrame:
    """Write payments/campaign.csv: one planted payment for a `lift` share of the treated members; return them."""
    rng = np.random.default_rng(seed)
    people = members.filter(~pl.col("holdout")).unique("customer_id", keep="first", maintain_order=True)
    chosen = people.filter(pl.Series(rng.random(people.height) < lift))
    days = rng.integers(1, window + 1, chosen.height)
    seconds = rng.integers(9 * 3600, 22 * 3600, chosen.height)
    amounts = rng.choice([6, 30, 68, 128, 328], chosen.height, p=[0.3, 0.3, 0.2, 0.15, 0.05]).astype(float)
    zone = ZoneInfo("Asia/Shanghai")
    rows = []
    for i, member_id in enumerate(chosen["member_id"]):
        at = datetime.combine(entry + timedelta(days=int(days[i])), time(), zone) + timedelta(
            seconds=int(seconds[i])
        )
        rows.append(
            (
                f"CAMP{i:07d}",
                f"CAMPO{i:07d}",
                member_id,
                "",
                "",
                f"{amounts[i]:.2f}",
                "CNY",
                "SUCCESS",
                "活动",
                at.isoformat(),
            )
        )
    with (sample_dir / "payments" / "campaign.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAYMENTS_HEADER)
        writer.writerows(rows)
    return chosen.with_columns(amount=pl.Series(amounts))


def true_effects(config: PipelineConfig, members: pl.DataFrame, entry: date, window: int) -> pl.DataFrame:
    """Per audience: the planted effect on the treated entries (conversion and revenue per member)."""
    end = entry + timedelta(days=window)
    with Warehouse.open(config, read_only=True) as wh:
        wh.write_frame("_members", members.select("audience", "customer_id", "holdout"), temp=True)
        return wh.frame(
            "with per_entry as ("
            "  select m.audience, m.customer_id,"
            "    (count(*) filter (where o.purchase) > 0)::int as converted,"
            "    (count(*) filter (where o.purchase and o.order_key not like 'CAMPO%') > 0)::int as converted_without,"
            "    coalesce(sum(o.net_amount) filter (where o.order_key like 'CAMPO%'), 0)::double as planted_revenue"
            "  from _members as m left join features.orders as o"
            "    on o.customer_id = m.customer_id and o.order_date > $entry and o.order_date <= $end"
            "  where not m.holdout group by all)"
            " select audience, count(*) as treated, avg(converted - converted_without) as conversion_effect,"
            "   avg(planted_revenue) as revenue_effect"
            " from per_entry group by all order by all",
            {"entry": entry, "end": end},
        )


def evaluate_campaign(
    sample_dir: Path, entry: date, window: int = 30, lift: float = 0.15, seed: int = 7
) -> dict[str, Any]:
    """Publish the entry day, plant a campaign, publish entry + window; return the estimates and the truth."""
    config = load_config(sample_dir / "config.yaml")
    config.act.outcome_windows_days = [window]
    run_day(config, entry, logger=logging.getLogger("evaluation"))
    members = treated_members(config, entry)
    planted = plant_campaign(sample_dir, members, entry, window, lift, seed)
    end = entry + timedelta(days=window)
    run_day(config, end, logger=logging.getLogger("evaluation"))
    truth = true_effects(config, members, entry, window)
    with Warehouse.open(config, read_only=True) as wh:
        outcomes = wh.frame(
            "select * from published.campaign_outcomes where as_of = $end and window_days = $window order by all",
            {"end": end, "window": window},
        )
    return {
        "members": members.height,
        "held_out": int(members["holdout"].sum()),
        "planted_payments": planted.height,
        "truth": truth,
        "outcomes": outcomes,
    }


def campaign_table(figures: dict[str, Any]) -> tuple[str, dict[str, int]]:
    """The estimates against the truth as plain text, and how many intervals cover their truth ("covers"),
    miss it ("misses"), are not given ("none": a side with fewer entries than act.outcome_min_group) or have
    no outcome row at all ("no_outcome")."""
    truth = figures["truth"]
    outcomes = figures["outcomes"]
    lines = []
    counts = dict.fromkeys(("covers", "misses", "none", "no_outcome"), 0)
    for row in truth.iter_rows(named=True):
        for metric, column in (("conversion", "conversion_effect"), ("revenue_per_member", "revenue_effect")):
            found = outcomes.filter((pl.col("audience") == row["audience"]) & (pl.col("metric") == metric))
            if found.is_empty():
                lines.append(f"{row['audience']:<22} {metric:<20} no outcome")
                counts["no_outcome"] += 1
                continue
            est = found.row(0, named=True)
            if est["ci_low"] is None:
                counts["none"] += 1
                interval = "none (a side has fewer entries than act.outcome_min_group)"
            else:
                inside = est["ci_low"] <= row[column] <= est["ci_high"]
                counts["covers" if inside else "misses"] += 1
                interval = f"[{est['ci_low']:.4f}, {est['ci_high']:.4f}]  {'covers' if inside else 'MISSES'}"
            lines.append(
                f"{row['audience']:<22} {metric:<20} treated {shown(est['treated'], '>6,')} "
                f"holdout {shown(est['holdout'], '>5,')}  truth {shown(row[column], '>8.4f')}  "
                f"estimate {shown(est['difference'], '>8.4f')}  95% interval {interval}"
            )
    return "\n".join(lines), counts


def shown(value: float | int | None, spec: str) -> str:
    """A figure formatted by spec, or "–" where there is none (an audience without members on one side)."""
    return "–" if value is None else format(value, spec)
