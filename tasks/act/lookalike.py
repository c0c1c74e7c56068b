"""Lookalike audiences: the non-members of a seed segment who most resemble its members.

A classifier learns seed members against everyone (positive-unlabelled learning: the non-members it is
trained against are the population, lookalikes among them included); its probability is each
customer's similarity to the seed. Non-members are ranked by it into percentiles, and the top
`audience_share` of them make the audience. The pure functions (score, evaluate, audience) are tested
directly; build_lookalikes wires them to the warehouse (sql/act/lookalike_inputs.sql and
act.segment_memberships in, act.lookalike_scores and act.lookalike_evaluation out).

The model is scikit-learn's HistGradientBoostingClassifier, cross-fitted on a bounded sample (see
_similarity here, fit_sample in tasks/act/lookalike_model.py): it takes missing values as they are (no
purchase, no feedback), needs no scaling, and finds thresholds and interactions a linear model misses. On
the generated 20,000-customer sample (evaluation/lookalike.py) it found at least as many hidden seed
members as a logistic regression on imputed, scaled inputs for every seed tried: in the top 5%,
rules:churn_warning 0.95 against 0.69, rfm_cn:重要挽留客户 1.00 against 0.79, risk:low 0.96 against 0.84; the
same (within 0.002) on tier:high, rfm:Champions and cluster:1. Those figures are of 100 boosting rounds
at a step of 0.1; the 30 rounds at 0.2 kept for speed (BOOSTING_ROUNDS) give 0.94 and 0.95 for
churn_warning and risk:low in the top 5%, the rest unchanged, and every seed's hidden members all in the
top 10% with either. Those segments are rules over the same features, so a recall near 1 shows the model
recovers a seed's definition; a seed of random customers finds them at about the rate of chance (lift
0.98, 0.95, 1.10).
"""

import math
from datetime import date

import numpy as np
import polars as pl

from tasks.act.lookalike_model import (
    BOOSTING_ROUNDS,
    FOLDS,
    LEARNING_RATE,
    SAMPLE_ROWS,
    SAMPLE_SEED_SHARE,
    LookalikeModel,
    fit_classifiers,
    fold_of,
    input_matrix,
    varying_columns,
)
from tasks.act.store import (
    forget_models,
    keeps_later,
    loaded,
    refit_reason,
    save_model,
    settings_hash,
    stored_model,
)
from tasks.shared.config import LookalikeConfig, parse_segment_ref
from tasks.shared.warehouse import Warehouse

# A seed smaller than this says too little about who resembles it: no model, no audience.
MIN_SEED = 10
# The hide-25% evaluation ranks a seeded sample of at most this many customers: its figures are shares of
# the hidden members (at 1M, tier:high hides 5,238 of the sample's, a share known to within a percentage
# point), and ranking all 1M would cost about a second more.
EVALUATION_CUSTOMERS = 200_000
# The RFM-rule baseline of the evaluation: money spent, then purchases, most first.
RULE_COLUMNS = ("log_monetary", "log_frequency")
TOP_SHARES = (0.05, 0.10, 0.20)
# Stored lookalike models are named lookalike:<name> in act.models.
MODEL_PREFIX = "lookalike:"

SCORE_SCHEMA = {
    "lookalike": pl.String,
    "customer_id": pl.String,
    "seed": pl.Boolean,
    "score": pl.Float64,
    "percentile": pl.Float64,
    "in_audience": pl.Boolean,
}
EVALUATION_SCHEMA = {
    "lookalike": pl.String,
    "customers": pl.Int64,
    "seed_size": pl.Int64,
    "hidden": pl.Int64,
    "top_share": pl.Float64,
    "found_share": pl.Float64,
    "random_share": pl.Float64,
    "rule_share": pl.Float64,
    "lift": pl.Float64,
    "evaluated_on": pl.Date,
}


def seed_problem(seed: pl.Series, minimum: int = MIN_SEED) -> str | None:
    """Why a seed cannot be modelled (too small, or everyone), or None when it can."""
    members = int(seed.sum())
    if members == 0:
        return "no customer is in the seed segment today (an unknown or empty segment)"
    if members < minimum:
        return f"the seed has {members} members; a lookalike needs at least {minimum}"
    if members == seed.len():
        return "every customer is in the seed: there is no one left to find"
    return None


def top_count(share: float, customers: int) -> int:
    """ceil(share × customers), without a float's 0.1 × 30 = 3.0000000000000004 counting one more."""
    return math.ceil(round(share * customers, 9))


def _similarity(x: np.ndarray, labels: np.ndarray, random_state: int, sample_rows: int) -> np.ndarray:
    """Every row's probability of the seed, from a model fitted seed (True) against everyone else without it.

    Cross-fitted: the rows are split into FOLDS folds and each fold is scored by a model fitted on the
    sampled rows (fit_sample) of the other folds. A model scoring the customers it was fitted on as
    non-members learns to push exactly them down, the closest lookalikes first; one that never saw them
    scores them by what they resemble. So every customer, sampled or not, is scored once by a model that
    never saw them, and all scores come from models of one kind (fitted on (FOLDS - 1) / FOLDS of the
    sample): at 1M customers that is five fits on 32k rows and a million predictions, where fitting on
    every other fold cost five fits on 100k rows and took 16-40 s in all with the evaluation.
    Without any column to tell customers apart, everyone scores the seed's share of the customers.
    """
    classifiers, folds = fit_classifiers(x, labels, random_state, sample_rows)
    return LookalikeModel([], classifiers, float(labels.mean())).predict(x, folds)


def _percentiles(scores: pl.DataFrame) -> pl.DataFrame:
    """Add percentile: 100 for the most similar non-member, down to 100/n; null for seed members.

    Non-members are ranked by score, most similar first, ties by customer_id, so that every rank is
    distinct and the top ceil(share × n) are exactly an audience of that share. Rows already ordered by
    customer_id (sql/act/lookalike_inputs.sql orders them) break ties by row, without sorting the ids.
    Ties are many when the seed is a rule the model learns exactly: at 1M, tier:high's non-members beyond
    the first few thousand share one score, so most of a 10% audience is taken in customer_id order.
    """
    others = np.flatnonzero(~scores["seed"].to_numpy())
    ids = scores["customer_id"]
    by_id = np.arange(ids.len()) if ids.is_sorted() else ids.rank("ordinal").to_numpy()
    order = others[np.lexsort((by_id[others], -scores["score"].to_numpy()[others]))]
    percentile = np.full(scores.height, np.nan)
    percentile[order] = 100.0 * (others.size - np.arange(others.size)) / others.size
    return scores.with_columns(percentile=pl.Series(percentile).fill_nan(None))


def score_lookalike(
    inputs: pl.DataFrame, seed: pl.Series, random_state: int = 0, sample_rows: int = SAMPLE_ROWS
) -> pl.DataFrame:
    """customer_id, seed, score (0-1 similarity to the seed) and percentile (0-100 among non-members).

    inputs: customer_id and numeric columns (sql/act/lookalike_inputs.sql); seed: one boolean per row.
    The models are fitted on at most sample_rows customers (fit_sample). A seed that cannot be modelled
    (seed_problem) gives null scores and percentiles.
    """
    return fit_lookalike(inputs, seed, random_state, sample_rows)[0]


def fit_lookalike(
    inputs: pl.DataFrame, seed: pl.Series, random_state: int = 0, sample_rows: int = SAMPLE_ROWS
) -> tuple[pl.DataFrame, LookalikeModel | None, np.ndarray | None]:
    """score_lookalike's scores, the model that gave them and each row's fold (None, None when no model)."""
    seed = seed.fill_null(False).alias("seed")
    scores = inputs.select("customer_id").with_columns(seed)
    if seed_problem(seed) is not None:
        nulls = scores.with_columns(score=pl.lit(None, pl.Float64), percentile=pl.lit(None, pl.Float64))
        return nulls, None, None
    labels = seed.to_numpy()
    columns = varying_columns(inputs)
    x = input_matrix(inputs, columns)
    classifiers, folds = fit_classifiers(x, labels, random_state, sample_rows)
    model = LookalikeModel(columns, classifiers, float(labels.mean()))
    return _percentiles(scores.with_columns(score=pl.Series(model.predict(x, folds)))), model, folds


def serve_lookalike(
    inputs: pl.DataFrame, seed: pl.Series, model: LookalikeModel, folds: np.ndarray
) -> pl.DataFrame:
    """Like score_lookalike, with a stored model: each row scored by the classifier of its fold."""
    seed = seed.fill_null(False).alias("seed")
    scores = inputs.select("customer_id").with_columns(seed)
    x = input_matrix(inputs, model.columns)
    return _percentiles(scores.with_columns(score=pl.Series(model.predict(x, folds))))


def audience(scores: pl.DataFrame, share: float) -> pl.Series:
    """in_audience: the ceil(share × non-members) non-members with the highest percentile."""
    others = int((~scores["seed"]).sum())
    cutoff = 100.0 * (others - top_count(share, others) + 1) / others if others else math.inf
    return (scores["percentile"].fill_null(-1.0) >= cutoff - 1e-9).alias("in_audience")


def _recall_at(hidden_in_order: pl.Series, share: float) -> float:
    """Share of the hidden members that are among the first top_count(share, n) of a ranking."""
    return float(hidden_in_order.head(top_count(share, hidden_in_order.len())).sum()) / float(
        hidden_in_order.sum()
    )


def evaluate_lookalike(
    inputs: pl.DataFrame,
    seed: pl.Series,
    hidden_share: float = 0.25,
    top_shares: tuple[float, ...] = TOP_SHARES,
    random_state: int = 0,
    max_customers: int = EVALUATION_CUSTOMERS,
    sample_rows: int = SAMPLE_ROWS,
) -> list[dict]:
    """How many hidden seed members the lookalike finds, against random and an RFM rule.

    With more than max_customers customers, the evaluation runs on a seeded sample of max_customers of
    them (customers, seed_size and hidden then count the sample's): the figures are shares of the hidden
    members, which a sample estimates well, and the rows say how many customers they came from. A seed
    too small to evaluate in the sample gives no rows.

    A seeded hidden_share of the seed is hidden (treated as non-members), the model is fitted on the
    rest, and every customer outside the training seed (hidden members and non-members) is ranked. Per
    top share: found_share (hidden members in the top x%), random_share (x, what a random pick finds),
    rule_share (the rule: most money spent, then most purchases, nulls last; null when the inputs lack
    those columns) and lift (found_share / random_share). No rows when the split leaves a training seed
    seed_problem refuses or no hidden member.
    """
    seed = seed.fill_null(False)
    if inputs.height > max_customers:
        rows = pl.Series(
            np.sort(np.random.default_rng(random_state).choice(inputs.height, max_customers, replace=False))
        )
        inputs, seed = inputs[rows], seed[rows]
    members = np.flatnonzero(seed.to_numpy())
    hidden_count = round(hidden_share * members.size)
    if hidden_count < 1 or seed_problem(seed) is not None:
        return []
    rng = np.random.default_rng(random_state)
    hidden_rows = rng.choice(members, hidden_count, replace=False)
    hidden = np.zeros(seed.len(), dtype=bool)
    hidden[hidden_rows] = True
    training = seed.to_numpy() & ~hidden
    if seed_problem(pl.Series(training)) is not None:
        return []
    scored = score_lookalike(inputs, pl.Series(training), random_state, sample_rows)
    ranked = pl.concat(
        [scored.with_columns(hidden=pl.Series(hidden)), inputs.select(_rule_columns(inputs))],
        how="horizontal",
    ).filter(~pl.col("seed"))
    by_model = ranked.sort(["score", "customer_id"], descending=[True, False])["hidden"]
    by_rule = _rule_ranking(ranked)
    rows = []
    for share in top_shares:
        found = _recall_at(by_model, share)
        rule = None if by_rule is None else _recall_at(by_rule, share)
        rows.append(
            {
                "customers": inputs.height,
                "seed_size": members.size,
                "hidden": hidden_count,
                "top_share": share,
                "found_share": found,
                "random_share": share,
                "rule_share": rule,
                "lift": found / share,
            }
        )
    return rows


def _rule_columns(inputs: pl.DataFrame) -> list[str]:
    """The RULE_COLUMNS the inputs have."""
    return [column for column in RULE_COLUMNS if column in inputs.columns]


def _rule_ranking(ranked: pl.DataFrame) -> pl.Series | None:
    """hidden, in the order of the rule baseline (most money, then most purchases, nulls last); None without them."""
    if not all(column in ranked.columns for column in RULE_COLUMNS):
        return None
    order = ranked.sort(
        [*RULE_COLUMNS, "customer_id"], descending=[True] * len(RULE_COLUMNS) + [False], nulls_last=True
    )
    return order["hidden"]


def _seed_of(wh: Warehouse, inputs: pl.DataFrame, seed_ref: str) -> pl.Series:
    """One boolean per row of inputs: a member of the seed segment in act.segment_memberships."""
    scheme, segment = parse_segment_ref(seed_ref, allow_lookalike=False)
    members = wh.frame(
        "select customer_id from act.segment_memberships where scheme = ? and segment = ?", [scheme, segment]
    )["customer_id"]
    return inputs["customer_id"].is_in(members.implode()).alias("seed")


def lookalike_settings(lookalike: LookalikeConfig) -> str:
    """The settings hash of a lookalike's model: its seed, the fit's constants and the inputs' SQL."""
    settings = {
        "seed": lookalike.seed,
        "folds": FOLDS,
        "sample_rows": SAMPLE_ROWS,
        "sample_seed_share": SAMPLE_SEED_SHARE,
        "evaluation_customers": EVALUATION_CUSTOMERS,
        "boosting_rounds": BOOSTING_ROUNDS,
        "learning_rate": LEARNING_RATE,
        "min_seed": MIN_SEED,
        "top_shares": TOP_SHARES,
    }
    return settings_hash(settings, ("act/lookalike_inputs",))


def _stored_folds(wh: Warehouse, inputs: pl.DataFrame, name: str) -> np.ndarray:
    """Each input row's fold: the fit day's, or fold_of(customer_id) for a customer it did not know."""
    stored = wh.frame("select customer_id, fold from act.lookalike_folds where lookalike = ?", [name])
    folds = inputs.select("customer_id").join(stored, on="customer_id", how="left", maintain_order="left")
    array = folds["fold"].fill_null(-1).to_numpy().astype(np.int64)
    unknown = np.flatnonzero(array < 0)
    array[unknown] = [fold_of(customer) for customer in folds["customer_id"].gather(unknown)]
    return array


def _save_lookalike(
    wh: Warehouse, name: str, as_of: date, settings: str, model: LookalikeModel, folds: np.ndarray,
    inputs: pl.DataFrame, evaluation: list[dict],
) -> None:  # fmt: skip
    """Store a lookalike fitted as of as_of: its model and evaluation (act.models), its folds (act.lookalike_folds)."""
    frame = inputs.select("customer_id").with_columns(
        lookalike=pl.lit(name), fold=pl.Series(folds, dtype=pl.Int8)
    )
    with wh.transaction():
        save_model(wh, f"{MODEL_PREFIX}{name}", as_of, settings, {"model": model, "evaluation": evaluation})
        wh.execute("delete from act.lookalike_folds where lookalike = ?", [name])
        wh.write_frame("_lookalike_folds", frame.select("lookalike", "customer_id", "fold"), temp=True)
        wh.execute("insert into act.lookalike_folds select * from _lookalike_folds")
        wh.execute("drop table _lookalike_folds")


def _model_of_day(
    wh: Warehouse, lookalike: LookalikeConfig, inputs: pl.DataFrame, seed: pl.Series, as_of: date,
    every_days: int, refit: bool,
) -> tuple[pl.DataFrame, list[dict], date, str | None]:  # fmt: skip
    """The day's scores and evaluation rows of a modelled seed, the day they were evaluated, and why it refitted.

    A stored model that still serves (store.refit_reason) scores today's inputs; otherwise the lookalike is
    fitted, evaluated and stored as of as_of.
    """
    settings = lookalike_settings(lookalike)
    stored = stored_model(wh, f"{MODEL_PREFIX}{lookalike.name}")
    reason = refit_reason(stored, settings, as_of, every_days, refit)
    payload = loaded(stored) if reason is None else None
    if payload is not None:
        folds = _stored_folds(wh, inputs, lookalike.name)
        return (
            serve_lookalike(inputs, seed, payload["model"], folds),
            payload["evaluation"],
            stored.fit_day,
            None,
        )
    scored, model, folds = fit_lookalike(inputs, seed)
    evaluation = [{"lookalike": lookalike.name, **row} for row in evaluate_lookalike(inputs, seed)]
    if not keeps_later(stored, as_of):
        _save_lookalike(wh, lookalike.name, as_of, settings, model, folds, inputs, evaluation)
    return scored, evaluation, as_of, reason or "the stored model could not be read"


def build_lookalikes(
    wh: Warehouse,
    lookalikes: list[LookalikeConfig],
    as_of: date,
    *,
    refit_every_days: int = 7,
    refit: bool = False,
) -> list[dict]:
    """Score every lookalike of the day into act.lookalike_scores and act.lookalike_evaluation; a summary each.

    Reads act.segment_memberships (the act stage builds it first). A lookalike whose seed cannot be
    modelled (unknown or empty segment, fewer than MIN_SEED members, everyone) is left out of both
    tables and its summary says why. Each model is stored (tasks/act/store.py) and serves the days after
    its fit day until a refit is due; the evaluation is that of the fit day (evaluated_on says which).
    """
    inputs = wh.frame(wh.model_sql("act/lookalike_inputs"), {"as_of": as_of})  # ordered by customer_id
    forgotten = forget_models(
        wh, MODEL_PREFIX, [f"{MODEL_PREFIX}{lookalike.name}" for lookalike in lookalikes]
    )
    for name in forgotten:
        wh.execute("delete from act.lookalike_folds where lookalike = ?", [name.removeprefix(MODEL_PREFIX)])
    scores, evaluations, summaries = [], [], []
    for lookalike in lookalikes:
        seed = _seed_of(wh, inputs, lookalike.seed)
        summary = {
            "name": lookalike.name,
            "label_zh": lookalike.label_zh,
            "label_en": lookalike.label_en,
            "seed": lookalike.seed,
            "seed_size": int(seed.sum()),
            "audience": 0,
            "top_share": 0.10,  # the evaluation figures below are those of the top 10%
            "found_share": None,
            "random_share": None,
            "rule_share": None,
            "lift": None,
            "reason": seed_problem(seed),
            "evaluated_on": None,
            "refit": None,
        }
        summaries.append(summary)
        if summary["reason"] is not None:
            continue
        scored, evaluation, evaluated_on, refitted = _model_of_day(
            wh, lookalike, inputs, seed, as_of, refit_every_days, refit
        )
        scored = scored.with_columns(
            audience(scored, lookalike.audience_share), lookalike=pl.lit(lookalike.name)
        )
        scores.append(scored.select(list(SCORE_SCHEMA)))
        evaluations += [{**row, "evaluated_on": evaluated_on} for row in evaluation]
        summary |= {
            "audience": int(scored["in_audience"].sum()),
            "evaluated_on": evaluated_on,
            "refit": refitted,
        }
        at_10 = next((row for row in evaluation if row["top_share"] == 0.10), None)
        if at_10 is not None:
            summary |= {key: at_10[key] for key in ("found_share", "random_share", "rule_share", "lift")}
    with wh.transaction():
        wh.write_frame("act.lookalike_scores", pl.concat([pl.DataFrame(schema=SCORE_SCHEMA), *scores]))
        wh.write_frame("act.lookalike_evaluation", pl.DataFrame(evaluations, schema=EVALUATION_SCHEMA))
    return summaries
