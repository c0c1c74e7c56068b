"""Item recommendations: each customer's next game types or product categories, and how good they are.

SAR-style (Microsoft's Smart Adaptive Recommendations), in DuckDB SQL: a customer's affinity for an item is
their time-decayed plays and purchases of it (act/interaction_summary; on a served day act/interaction_summary_kept,
the plays from features.record_activity, which the features stage keeps), two items are alike when customers have
both (act/item_similarity), and a customer's candidates are the items alike to theirs, weighted by their
affinity (act/recommendations). Places left are filled from what is popular in the customer's RFM
segment, then overall. The evaluation refits as of evaluation_days earlier and checks the lists against
the items customers took up in the days after, next to a popularity baseline.
"""

from datetime import date, timedelta
from typing import Any

import polars as pl

from tasks.act.store import keeps_later, loaded, refit_reason, save_model, settings_hash, stored_model
from tasks.features.customer_activity import RECORDS, STATE, play_epoch, settings_fingerprint
from tasks.shared.config.act import RecommendationConfig
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

# What one purchase of an item counts for, a play counting 1: paying says more about a taste than playing.
PURCHASE_WEIGHT = 2.0
SIMILARITIES = ("jaccard", "lift", "cooccurrence")
SEGMENTS = "segments.customer_segments"
SOURCES = ("similar", "popular_in_segment", "popular")
MODEL, BASELINE = "item_similarity", "popularity"
# The evaluation scores at most this many customers (a fixed sample): its figures are means over them.
EVALUATION_USERS = 100_000
# The stored model: its row in act.models (the evaluation in its payload) and its item similarity.
MODEL_NAME, SIMILARITY_MODEL = "recommendations", "act.item_similarity_model"
# The SQL a stored model and its evaluation come from: a change refits.
FIT_MODELS = (
    "act/interaction_summary",
    "act/interaction_summary_kept",
    "act/item_similarity",
    "act/popular_items",
    "act/recommendations",
    "act/recommend_fit_interactions",
    "act/recommendation_truth",
    "act/recommend_truth_sample",
    "act/recommendation_evaluation_customers",
    "act/recommendation_metrics",
)
EVALUATION_SCHEMA = {
    "model": pl.String,
    "k": pl.Int32,
    "users": pl.Int64,
    "precision": pl.Float64,
    "recall": pl.Float64,
    "ndcg": pl.Float64,
    "coverage": pl.Float64,
    "evaluated_on": pl.Date,
}


def kept_plays_reason(
    wh: Warehouse, config: RecommendationConfig, session_types: list[str], as_of: date
) -> str:
    """Why as_of's plays cannot be read from features.record_activity (empty: they can), as
    features.customer_activity_state tells: it must be as of the day, with these session types and half-life."""
    if not (wh.table_exists(RECORDS) and wh.table_exists(STATE)):
        return f"no {RECORDS}"
    # settings and as_of: every version of the state has them, and the epoch follows from them
    state = wh.dicts(f"select settings, as_of from {STATE}")
    if len(state) != 1:
        return f"{STATE} does not hold one row"
    if state[0]["settings"] != settings_fingerprint(session_types, float(config.half_life_days)):
        return f"{RECORDS} was computed with other settings (its version, the session types or the half-life)"
    if state[0]["as_of"] != as_of:
        return f"{RECORDS} is as of {state[0]['as_of']}, not {as_of}"
    return ""


def build_interactions(
    wh: Warehouse,
    config: RecommendationConfig,
    session_types: list[str],
    table: str,
    as_of: date,
    read_to: date | None = None,
    fit_day: date | None = None,
) -> str:
    """The temp table `table`: act/interaction_summary weighed as of as_of, reading the days up to the end of
    read_to (default as_of); with fit_day, weighed as of it too (the fit_ columns a time-split evaluation fits
    on, act/recommend_fit_interactions); the model the plays were read from: features.record_activity
    (act/interaction_summary_kept: read to as_of without fit_day, when kept_plays_reason finds no reason
    against it) or features.daily_activity (the roll-up). Both give the same rows."""
    read_to = read_to or as_of
    half_life = float(config.half_life_days)
    params = {
        "as_of": as_of,
        "cutoff": wh.cutoff(read_to),
        "half_life_days": half_life,
        "purchase_weight": PURCHASE_WEIGHT,
        "epoch": play_epoch(as_of, half_life),
    }
    if read_to == as_of and fit_day is None and not kept_plays_reason(wh, config, session_types, as_of):
        wh.build(table, "act/interaction_summary_kept", params, temp=True)
        return RECORDS
    params |= {
        "read_to": read_to,
        "fit_day": fit_day,
        "fit_epoch": play_epoch(fit_day, half_life) if fit_day else None,
        "session_types": list(session_types),
    }
    wh.build(table, "act/interaction_summary", params, temp=True)
    return "features.daily_activity"


def fit(
    wh: Warehouse,
    config: RecommendationConfig,
    interactions: str,
    customers: str,
    prefix: str,
    similarity: str | None = None,
) -> dict[str, str]:
    """Build the temp tables a recommendation list is made from; return them by placeholder.

    interactions: a table of act/interaction_summary as of the day. customers: a table of the customers to
    recommend to, with customer_id and rfm_segment. similarity: a stored act/item_similarity to use
    (default: fitted from the interactions into <prefix>_similarity).
    """
    if config.similarity not in SIMILARITIES:  # the config allows no other; the SQL falls back to the count
        raise ValueError(f"similarity {config.similarity!r} is not one of {', '.join(SIMILARITIES)}")
    tables = {
        "interactions": interactions,
        "similarity": similarity or f"{prefix}_similarity",
        "popular": f"{prefix}_popular",
        "customers": customers,
    }
    if similarity is None:
        wh.build(
            tables["similarity"],
            "act/item_similarity",
            {"similarity": config.similarity, "min_cooccurrence": config.min_cooccurrence},
            temp=True,
            identifiers={"interactions": interactions},
        )
    wh.build(
        tables["popular"],
        "act/popular_items",
        temp=True,
        identifiers={"interactions": interactions, "customers": customers},
    )
    return tables


def no_recommendations_reason(summary: dict[str, Any], session_types: list[str], as_of: date) -> str | None:
    """Why a build recommended nothing (None when it recommended something)."""
    if summary["customers"]:
        return None
    if not summary["items"]:
        return (
            f"no interactions with a category by {as_of}: no session event ({', '.join(session_types)}) "
            "and no paid purchase carries one, so there are no items to recommend"
        )
    return f"every customer has already had all {summary['items']} items, or there are no customers"


def build_recommendations(
    wh: Warehouse,
    config: RecommendationConfig,
    session_types: list[str],
    as_of: date,
    *,
    interactions: str | None = None,
    similarity: str | None = None,
) -> dict[str, Any]:
    """Write act.recommendations as of a day (top_k new items per customer); return what it holds.

    interactions: a table of act/interaction_summary as of the day, already built; default: built here.
    similarity: a stored act/item_similarity;
    default: fitted from the interactions (into _recommend_similarity).
    Returned: customers (with recommendations), recommendations, by_source (recommendations of each
    source), items (the catalogue: items anyone has had), items_recommended, coverage (items_recommended /
    items), reason (why nothing was recommended, else None) and plays_from (the table the plays were read
    from when built here: build_interactions; else None).
    """
    if not config.enabled:
        return {"customers": 0, "reason": "recommendations are off (act.recommendations.enabled)"}
    if not wh.table_exists(SEGMENTS):
        raise DataError(f"{SEGMENTS} is missing: recommendations fill places from segments of the day")
    plays_from = None
    with wh.transaction():
        if interactions is None:
            interactions = "_recommend_interactions"
            plays_from = build_interactions(wh, config, session_types, interactions, as_of)
        tables = fit(wh, config, interactions, SEGMENTS, "_recommend", similarity)
        wh.build(
            "act.recommendations",
            "act/recommendations",
            {"top_k": config.top_k, "use_similarity": True},
            identifiers=tables,
        )
    summary = wh.select(
        "act/recommendation_summary",
        identifiers={"recommendations": "act.recommendations", "interactions": tables["interactions"]},
    )[0]
    return {
        "as_of": as_of,
        "customers": summary["customers"],
        "recommendations": summary["recommendations"],
        "by_source": {source: summary[source] for source in SOURCES},
        "items": summary["items"],
        "items_recommended": summary["items_recommended"],
        "coverage": summary["items_recommended"] / summary["items"] if summary["items"] else None,
        "reason": no_recommendations_reason(summary, session_types, as_of),
        "plays_from": plays_from,
    }


def evaluation_fit_day(config: RecommendationConfig, as_of: date) -> date:
    """The day a time-split evaluation of as_of fits as of: evaluation_days earlier."""
    return as_of - timedelta(days=config.evaluation_days)


def evaluate_recommendations(
    wh: Warehouse,
    config: RecommendationConfig,
    session_types: list[str],
    as_of: date,
    *,
    interactions: str | None = None,
) -> list[dict[str, Any]]:
    """Time-split evaluation: fit as of as_of - evaluation_days, score against the items taken up after.

    interactions: a table of act/interaction_summary read up to the end of as_of with fit_day =
    evaluation_fit_day (the day's, already built: the roll-up is read once); default: built here.

    Writes act.recommendation_evaluation, one row per model (item_similarity, popularity): model, k, users
    (customers who took up at least one new item, at most EVALUATION_USERS of them: a fixed sample of a
    larger base; similarity and popularity are fitted on everyone), precision, recall and ndcg at k, coverage. The
    popularity baseline recommends the overall most popular items the customer has not had. Neither uses
    segments: those of the day would tell what happened in the window.
    """
    since = evaluation_fit_day(config, as_of)
    with wh.transaction():
        # one read of the interactions up to the end of as_of, weighed as of since (the fit_ columns): the
        # interactions the fit sees, and the items first had after since (the truth), told apart by first_date
        since_interactions = interactions
        if since_interactions is None:
            since_interactions = "_recommend_since_interactions"
            build_interactions(wh, config, session_types, since_interactions, as_of, fit_day=since)
        wh.build(
            "_recommend_fit_interactions",
            "act/recommend_fit_interactions",
            {"since": since},
            temp=True,
            identifiers={"interactions": since_interactions},
        )
        wh.build(
            "_recommend_all_truth",
            "act/recommendation_truth",
            {"since": since},
            temp=True,
            identifiers={"interactions": since_interactions},
        )
        wh.build(
            "_recommend_truth",
            "act/recommend_truth_sample",
            {"users": EVALUATION_USERS},
            temp=True,
            identifiers={"truth": "_recommend_all_truth"},
        )
        wh.build(
            "_recommend_evaluated",
            "act/recommendation_evaluation_customers",
            temp=True,
            identifiers={"truth": "_recommend_truth"},
        )
        tables = fit(wh, config, "_recommend_fit_interactions", "_recommend_evaluated", "_recommend_fit")
        for model, use_similarity in ((MODEL, True), (BASELINE, False)):
            wh.build(
                f"_recommend_{model}",
                "act/recommendations",
                {"top_k": config.top_k, "use_similarity": use_similarity},
                temp=True,
                identifiers=tables,
            )
        for model in (MODEL, BASELINE):
            write = wh.build if model == MODEL else wh.insert
            write(
                "act.recommendation_evaluation",
                "act/recommendation_metrics",
                {"model": model, "top_k": config.top_k},
                identifiers={
                    "recommendations": f"_recommend_{model}",
                    "truth": "_recommend_truth",
                    "interactions": tables["interactions"],
                },
            )
    return wh.dicts("select * from act.recommendation_evaluation order by model")


def recommendation_settings(config: RecommendationConfig, session_types: list[str]) -> str:
    """The settings hash of the stored recommender: its config, the session types, constants and SQL."""
    settings = {
        **config.model_dump(exclude={"enabled"}),
        "session_types": list(session_types),
        "purchase_weight": PURCHASE_WEIGHT,
        "evaluation_users": EVALUATION_USERS,
    }
    return settings_hash(settings, FIT_MODELS)


def recommend_day(
    wh: Warehouse,
    config: RecommendationConfig,
    session_types: list[str],
    as_of: date,
    *,
    refit_every_days: int = 7,
    refit: bool = False,
) -> dict[str, Any]:
    """act.recommendations and act.recommendation_evaluation of a day, from the stored model or a refit.

    A stored item similarity that still serves (store.refit_reason) makes today's lists from today's
    interactions and segments, and the day carries its fit day's evaluation. Otherwise today's interactions
    (act/interaction_summary) make today's lists and the item similarity (stored in
    act.item_similarity_model), and the same read weighed as of the evaluation's fit day too (its fit_
    columns) the time-split evaluation (stored with the model). Returns
    build_recommendations' summary with evaluation (its rows), evaluated_on and refit (why it refitted,
    None when served).
    """
    settings = recommendation_settings(config, session_types)
    stored = stored_model(wh, MODEL_NAME)
    reason = refit_reason(stored, settings, as_of, refit_every_days, refit)
    payload = loaded(stored) if reason is None else None
    with wh.transaction():
        if stored is not None and payload is not None:
            summary = build_recommendations(wh, config, session_types, as_of, similarity=SIMILARITY_MODEL)
            evaluation, evaluated_on = payload["evaluation"], stored.fit_day
        else:
            # the day's lists and its evaluation read the same days: one build weighs them as of both days
            interactions, fit_day = "_recommend_interactions", evaluation_fit_day(config, as_of)
            plays_from = build_interactions(wh, config, session_types, interactions, as_of, fit_day=fit_day)
            summary = build_recommendations(wh, config, session_types, as_of, interactions=interactions)
            summary["plays_from"] = plays_from
            evaluation = evaluate_recommendations(wh, config, session_types, as_of, interactions=interactions)
            if not keeps_later(stored, as_of):  # a backfill before the stored fit day keeps the later model
                wh.execute(f"delete from {SIMILARITY_MODEL}")
                wh.execute(f"insert into {SIMILARITY_MODEL} by name select * from _recommend_similarity")
                save_model(wh, MODEL_NAME, as_of, settings, {"evaluation": evaluation})
            evaluated_on, reason = as_of, reason or "the stored model could not be read"
        rows = [{**row, "evaluated_on": evaluated_on} for row in evaluation]
        wh.write_frame("act.recommendation_evaluation", pl.DataFrame(rows, schema=EVALUATION_SCHEMA))
    return summary | {"evaluation": rows, "evaluated_on": evaluated_on, "refit": reason}
