"""Act stage: turn the day's segments into audiences someone can act on, and measure what acting did.

After segment, before publish. For one as_of it builds, in the act schema:

- act.segment_memberships: who is in which segment of every scheme (and risk tier) today, a view over
  segments.customer_segments (define_memberships);
- act.lookalike_scores / act.lookalike_evaluation: lookalike audiences of configured seed segments
  (tasks/act/lookalike.py);
- act.recommendations / act.recommendation_evaluation: items each customer has not taken up yet
  (tasks/act/recommend.py, SQL co-occurrence with time decay);
- act.models (with act.lookalike_folds and act.item_similarity_model): the fitted lookalike classifiers
  and item similarity, which serve the days after their fit day until a refit is due (tasks/act/store.py);
  the evaluations are run on fit days, and a served day carries its fit day's (evaluated_on);
- act.audiences, act.audience_members: the configured audiences, each member held out or not by a
  salted hash (stable across days), with the day they entered;
- act.campaign_outcomes: treated against holdout entries of earlier published days whose window has
  ended, on conversion, revenue per member and retention, each with a 95% interval.

Publish copies the day's audience members and outcomes into published tables, writes the outreach lists
(one offer per customer per window, consent and suppression respected) and keeps holdouts out of every
marketing destination.
"""

import logging
from datetime import date
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from tasks.act.lookalike import build_lookalikes
from tasks.act.recommend import (  # build_ and evaluate_recommendations: python -m bench.act times them here
    build_recommendations,  # noqa: F401
    evaluate_recommendations,  # noqa: F401
    recommend_day,
)
from tasks.act.store import clear_store
from tasks.act.summary import render_markdown
from tasks.shared.artifacts import record_counts
from tasks.shared.config import ActConfig, PipelineConfig, parse_segment_ref
from tasks.shared.contracts import SEGMENT_CODES
from tasks.shared.errors import STAGE_TASK_OPTIONS
from tasks.shared.rfm_names import unknown_rfm_segment
from tasks.shared.warehouse import Warehouse

# The tables one act run replaces, in the order it builds them.
TABLES = (
    "act.segment_memberships",
    "act.lookalike_scores",
    "act.recommendations",
    "act.audiences",
    "act.audience_members",
    "act.campaign_outcomes",
)
# Tables an act run writes only when their step runs.
EVALUATIONS = ("act.lookalike_evaluation", "act.recommendation_evaluation")


def ensure_act_tables(wh: Warehouse) -> None:
    """The act tables exist (empty where the stage has not built them) and so do the published ones it reads."""
    wh.ensure("ops/act_tables")
    wh.build_view("act.recommended_items", "act/recommended_items")
    wh.ensure("ops/audience_members")
    wh.ensure("ops/outreach")


def define_memberships(wh: Warehouse) -> None:
    """act.segment_memberships as a view over the day's segments.customer_segments (act/segment_memberships).

    A view: the stage reads a few segments of it (the lookalike seeds, the audiences), which it computes in
    a blink, while writing it as a table (~7 rows per customer) cost about 3 s a day at 1M customers. A
    warehouse of an earlier version holds it as a table, which the view replaces.
    """
    if "act.segment_memberships" in wh.base_tables(["act"]):
        wh.execute("drop table act.segment_memberships")
    wh.build_view("act.segment_memberships", "act/segment_memberships")


def write_audiences(wh: Warehouse, config: ActConfig) -> int:
    """act.audiences and act.audience_channels from the config; return the number of audiences."""
    audiences = []
    channels = []
    for position, audience in enumerate(config.audiences):
        scheme, segment = parse_segment_ref(audience.segment)
        share = config.holdout_share if audience.holdout_share is None else audience.holdout_share
        audiences.append(
            {
                "audience": audience.name,
                "label_en": audience.label_en,
                "label_zh": audience.label_zh,
                "scheme": scheme,
                "segment": segment,
                "priority": audience.priority,
                "position": position,
                "holdout_share": float(share),
            }
        )
        channels += [
            {"audience": audience.name, "channel": channel, "preference": preference}
            for preference, channel in enumerate(audience.channels)
        ]
    schema = {
        "audience": pl.String,
        "label_en": pl.String,
        "label_zh": pl.String,
        "scheme": pl.String,
        "segment": pl.String,
        "priority": pl.Int32,
        "position": pl.Int32,
        "holdout_share": pl.Float64,
    }
    wh.write_frame("act.audiences", pl.DataFrame(audiences, schema=schema))
    channel_schema = {"audience": pl.String, "channel": pl.String, "preference": pl.Int32}
    wh.write_frame("act.audience_channels", pl.DataFrame(channels, schema=channel_schema))
    return len(audiences)


def previous_audience_day(wh: Warehouse, as_of: date) -> date | None:
    """The latest day before as_of with published audience members (entered_on carries over from it)."""
    return wh.scalar("select max(as_of) from published.audience_members where as_of < ?", [as_of])


def build_audiences(wh: Warehouse, config: ActConfig, as_of: date) -> list[dict[str, Any]]:
    """act.audience_members of as_of; return per audience its members, holdout, entered and exited counts."""
    write_audiences(wh, config)
    previous = previous_audience_day(wh, as_of)
    wh.build(
        "act.audience_members",
        "act/audience_members",
        {"as_of": as_of, "previous": previous, "salt": config.holdout_salt},
    )
    return wh.select("act/audience_sizes", {"as_of": as_of, "previous": previous})


def measure_outcomes(wh: Warehouse, pipeline: PipelineConfig, as_of: date) -> list[dict[str, Any]]:
    """act.campaign_outcomes as of as_of (entries whose windows have ended); return its rows."""
    wh.build(
        "act.campaign_outcomes",
        "act/campaign_outcomes",
        {
            "as_of": as_of,
            "windows": pipeline.act.outcome_windows_days,
            "lookback": pipeline.act.outcome_lookback_days,
            "session_types": pipeline.features.session_event_types,
            "min_group": pipeline.act.outcome_min_group,
        },
    )
    return wh.select("act/outcome_rows")


def act_all(wh: Warehouse, pipeline: PipelineConfig, as_of: date, *, refit: bool = False) -> dict[str, Any]:
    """Build every act table of as_of in one transaction; return the summary the report and artifacts show.

    The lookalike and recommendation models are stored and serve the days after their fit day until a
    refit is due (tasks/act/store.py: act.refit_every_days, other settings, a day before the fit day, or
    refit=True); their evaluations are the fit day's. Audiences, holdouts and outcomes are built every day.
    """
    config = pipeline.act
    with wh.transaction():
        ensure_act_tables(wh)
        define_memberships(wh)
        if not config.enabled:
            for table in TABLES[1:]:
                wh.execute(f"delete from {table}")
            for table in EVALUATIONS:  # nothing of an earlier day may read as today's
                wh.execute(f"drop table if exists {table}")
            clear_store(wh)  # nor serve a later day: switched on again, the stage refits
            return {"enabled": False}
        schedule = {"refit_every_days": config.refit_every_days, "refit": refit}
        lookalikes = build_lookalikes(wh, config.lookalikes, as_of, **schedule)
        recommendations: dict[str, Any] = {"reason": "recommendations are off (act.recommendations.enabled)"}
        if config.recommendations.enabled:
            session_types = pipeline.features.session_event_types
            recommendations = recommend_day(wh, config.recommendations, session_types, as_of, **schedule)
        else:
            wh.execute("delete from act.recommendations")
        audiences = build_audiences(wh, config, as_of)
        outcomes = measure_outcomes(wh, pipeline, as_of)
    return {
        "enabled": True,
        "audiences": audiences,
        "outcomes": outcomes,
        "lookalikes": lookalikes,
        "recommendations": recommendations,
    }


def empty_audience(audience: dict[str, Any], as_of: date) -> tuple[int, str]:
    """The log level and line for an audience without members: a segment that exists but holds nobody today (a
    rule nobody meets, a tier of an empty day) is said as such; a name that may be misspelt is asked about."""
    scheme, segment = parse_segment_ref(audience["segment"])
    reference = f"{scheme}:{segment}"
    if misspelt := unknown_rfm_segment(f"audience {audience['audience']!r}", scheme, segment):
        return logging.WARNING, f"audience {audience['audience']} has no members: {misspelt}"
    exists = scheme in ("rules", "lookalike", "rfm", "rfm_cn") or segment in SEGMENT_CODES.get(scheme, ())
    if exists:  # rules and lookalikes are checked against the config when it is read, RFM names above
        return (
            logging.INFO,
            f"audience {audience['audience']} has no members: nobody is in {reference} as of {as_of}",
        )
    return (
        logging.WARNING,
        f"audience {audience['audience']} has no members: is {reference} a segment of the day (scheme:segment, "
        "spelt as published)?",
    )


@task(name="act", **STAGE_TASK_OPTIONS)
def act(
    config: PipelineConfig, as_of: date, run_id: str | None = None, refit: bool = False
) -> dict[str, Any]:
    """Lookalikes, recommendations, audiences with holdouts and campaign outcomes of the as_of's segments."""
    logger = get_run_logger()
    with Warehouse.open(config) as wh:
        summary = act_all(wh, config, as_of, refit=refit)
        built = [{"table": table, "rows": wh.count(table)} for table in TABLES]
    record_counts("act", built, f"act as of {as_of}: rows of each table built")
    if summary["enabled"]:
        create_markdown_artifact(
            markdown=render_markdown(summary, as_of),
            key="act-audiences",
            description=f"Audiences, holdouts, campaign outcomes, lookalikes and recommendations as of {as_of}",
        )
        for audience in summary["audiences"]:
            if not audience["members"]:
                level, text = empty_audience(audience, as_of)
                logger.log(level, "%s", text)
            logger.info(
                "audience %s: %d members, %d held out, %d entered, %d exited",
                audience["audience"],
                audience["members"],
                audience["holdout"],
                audience["entered"],
                audience["exited"],
            )
        recommended = summary["recommendations"]
        if recommended.get("plays_from"):
            logger.info(
                "recommendations: %d customers, plays read from %s, %s",
                recommended["customers"],
                recommended["plays_from"],
                f"model refitted ({recommended['refit']})" if recommended.get("refit") else "stored model",
            )
    else:
        logger.info("act stage is off (act.enabled): no audiences, lookalikes or recommendations")
    return summary
