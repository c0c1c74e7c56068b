"""Scoring candidate pairs with a Fellegi–Sunter model, and the probabilistic matcher that puts it together.

Deterministic rules (a shared email, phone, device id or hashed national id) run first in
tasks.dedupe.graph. The matcher finds the pairs of records that share no strong identifier but
still agree strongly on name, birth date, address, city and partial identifiers: it prepares the
records (tasks.dedupe.comparisons), blocks them into candidate pairs (tasks.dedupe.blocking),
trains the model (tasks.dedupe.training) and scores each pair: the match weight (sum of log2 Bayes
factors) and the match probability in [0, 1]. Dedupe links pairs at or above the configured threshold.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from tasks.dedupe.blocking import BlockingRule, candidate_pairs, pair_budget
from tasks.dedupe.comparisons import DEFAULT_COMPARISONS, Comparison, PersonConflict, person_conflict
from tasks.dedupe.levels import PAIR_CHUNK, code_records, comparison_levels, nest_locations, node_positions
from tasks.dedupe.model import MatchModel, settings_hash
from tasks.dedupe.preparation import decimal_marks, prepare_records, unreadable_values
from tasks.dedupe.training import (
    Parameters,
    em_caps,
    estimate_parameters,
    estimate_u,
    labelled_m,
    person_comparisons,
    term_frequencies,
)
from tasks.shared.warehouse import Warehouse

EM_SAMPLE = 1_000_000  # candidate pairs EM is trained on at most
# How the evidence behind a probabilistic link is named in identity_map (match_rule); a configured
# comparison is named by its own name.
RULE_PARTS: dict[str, str] = {
    "given": "name",
    "family": "name",
    "dob": "dob",
    "address": "address",
    "postcode": "address",
    "city": "city",
    "national_id": "national_id",
    "email": "email",
    "phone": "phone",
    "gender": "",
}
RULE_ORDER = ("name", "dob", "address", "city", "national_id", "email", "phone")


def score_pairs(
    prepared: pl.DataFrame,
    pairs: pl.DataFrame,
    levels: dict[str, np.ndarray],
    parameters: Parameters,
    frequencies: dict[str, pl.DataFrame] | None = None,
    prior: float | None = None,
    min_probability: float | None = None,
    evidence: bool = False,
    *,
    conflict: PersonConflict | None,
) -> pl.DataFrame:
    """pairs with match_weight (log2 odds), match_probability and rule (the agreeing evidence).

    prior: the probability that two records match before looking at them (default: the share
    of matches among the candidate pairs, as EM found it). min_probability: keep only the pairs
    scored at least this (their rule is worked out for them alone). evidence: also each comparison's
    level (l_<name>) and match weight (w_<name>), to explain the pair. conflict (MatchSettings.conflict, given
    by every caller): the pairs it finds are two people, match probability 0 (their weight is the evidence's).
    Pairs are scored in slices of PAIR_CHUNK, so the working arrays stay small however many pairs there are.
    """
    prior = parameters.prior if prior is None else prior
    # per record, the share of records with its value (term frequency), for the adjusted comparisons
    shares = {}
    for name in levels:
        if not frequencies or name not in frequencies:
            continue
        column = parameters.columns[name]
        default = parameters.u[name][len(parameters.m[name]) - 1]
        table = frequencies[name]
        if table["value"].dtype != prepared[column].dtype:  # a stored model keeps its values as text
            table = table.with_columns(pl.col("value").cast(prepared[column].dtype))
        shares[name] = (
            prepared.select(value=pl.col(column))
            .join(table, on="value", how="left", maintain_order="left")["share"]
            .fill_null(default)
            .to_numpy()
        )
    position = node_positions(prepared) if shares else None
    parts = [
        _score_slice(
            pairs.slice(start, PAIR_CHUNK),
            {name: level[start : start + PAIR_CHUNK] for name, level in levels.items()},
            parameters,
            position,
            shares,
            prior,
            min_probability,
            evidence,
            conflict,
        )
        for start in range(0, max(pairs.height, 1), PAIR_CHUNK)
    ]
    return pl.concat(parts)


def _score_slice(
    pairs: pl.DataFrame,
    levels: dict[str, np.ndarray],
    parameters: Parameters,
    position: np.ndarray | None,
    shares: dict[str, np.ndarray],
    prior: float,
    min_probability: float | None,
    evidence: bool,
    conflict: PersonConflict | None,
) -> pl.DataFrame:
    """score_pairs for one slice of the pairs."""
    weight = np.full(pairs.height, np.log2(prior / (1 - prior)))
    agreeing: dict[str, np.ndarray] = {}
    contributions: dict[str, np.ndarray] = {}
    left_rows = position[pairs["left"].to_numpy()] if shares else None
    for name, level in levels.items():
        seen = level >= 0
        bayes = np.log2(parameters.m[name]) - np.log2(parameters.u[name])
        contribution = np.where(seen, bayes[np.maximum(level, 0)], 0.0)
        if name in shares:
            top = len(parameters.m[name]) - 1
            adjusted = np.log2(parameters.m[name][top]) - np.log2(np.maximum(shares[name][left_rows], 1e-9))
            contribution = np.where(level == top, adjusted, contribution)
        weight += contribution
        if evidence:
            contributions[name] = contribution
        part = RULE_PARTS.get(name, name)
        if part:
            agreeing[part] = agreeing.get(part, np.zeros(pairs.height, bool)) | (seen & (contribution > 1.0))
    probability = 1 / (1 + np.exp2(-np.clip(weight, -60, 60)))
    if conflict is not None:
        probability[conflict.pairs(levels)] = 0.0
    keep = slice(None) if min_probability is None else np.flatnonzero(probability >= min_probability)
    order = [p for p in RULE_ORDER if p in agreeing] + [p for p in agreeing if p not in RULE_ORDER]
    rule_columns = [pl.when(pl.Series(agreeing[p][keep])).then(pl.lit(p)) for p in order]
    rule = pl.concat_str(rule_columns, separator="_", ignore_nulls=True) if rule_columns else pl.lit("")
    kept = pairs if min_probability is None else pairs[keep]
    scored = kept.with_columns(
        match_weight=pl.Series(weight[keep], dtype=pl.Float64),
        match_probability=pl.Series(probability[keep], dtype=pl.Float64),
    ).with_columns(rule=pl.lit("probabilistic:") + rule)
    if evidence:
        scored = scored.with_columns(
            *(pl.Series(f"l_{name}", levels[name][keep], dtype=pl.Int8) for name in levels),
            *(pl.Series(f"w_{name}", contributions[name][keep], dtype=pl.Float64) for name in levels),
        )
    return scored


@dataclass(frozen=True)
class MatchSettings:
    """How the matcher runs (from tasks.shared.config.DedupeConfig)."""

    threshold: float = 0.9
    comparisons: tuple[Comparison, ...] = DEFAULT_COMPARISONS
    rules: Sequence[str] | None = None  # None: chosen from the data under the pair budget
    max_block_size: int = 25
    max_candidate_pairs: int = 2_000_000
    link_type: str = "link_and_dedupe"
    person_conflicts: bool = True  # never link two people (PersonConflict)

    @property
    def conflict(self) -> PersonConflict | None:
        """The pairs never linked, whatever their score (None when person_conflicts is off)."""
        return person_conflict(self.comparisons) if self.person_conflicts else None

    def digest(self) -> str:
        """The hash of what decides the matcher's pairs and scores (a stored model's settings_hash)."""
        return settings_hash(
            self.comparisons,
            self.rules,
            self.max_block_size,
            self.max_candidate_pairs,
            self.link_type,
            self.threshold,
            self.person_conflicts,
        )


@dataclass(frozen=True)
class MatchOutcome:
    """Probabilistic links above the threshold, and what the matcher did to find them."""

    links: pl.DataFrame  # left, right, match_probability, match_weight, rule, l_<comparison>, w_<comparison>
    candidate_pairs: int
    skipped_blocks: list[str]
    parameters: Parameters | None
    blocking: list[BlockingRule] = field(default_factory=list)
    unreadable: dict[str, int] = field(default_factory=dict)  # per comparison, values read as missing
    unused: list[str] = field(default_factory=list)  # configured comparisons without a single value
    prior: float | None = None  # the match probability of two records taken at random, scores start from it
    model: MatchModel | None = None  # the model scored with: fitted by this run, or the stored one given
    prepared: pl.DataFrame | None = (
        None  # the prepared records (node order), what the incremental state keeps
    )


# Scores candidate pairs with a fitted model: (prepared, pairs, model, settings) -> the links at or above
# settings.threshold, as score_with_model makes them (tasks/dedupe/shards.py scores them in shards)
PairScorer = Callable[[pl.DataFrame, pl.DataFrame, MatchModel, "MatchSettings"], pl.DataFrame]


def score_with_model(
    prepared: pl.DataFrame, pairs: pl.DataFrame, model: MatchModel, settings: MatchSettings
) -> pl.DataFrame:
    """The pairs scored at or above settings.threshold with the model, with each comparison's evidence
    (match_records' links); only the records the pairs name are coded (with the model's token counts)."""
    nodes = pl.concat([pairs["left"], pairs["right"]]).unique()
    sub = prepared.filter(pl.col("node").is_in(nodes.implode()))
    if pairs.is_empty():
        sub = prepared.head(2)  # the schema of the links, from two records
        pairs = pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64})
    coded = code_records(sub, settings.comparisons, model.token_records)
    levels = comparison_levels(sub, pairs, coded, settings.comparisons)
    return score_pairs(
        sub,
        pairs,
        levels,
        model.parameters,
        model.frequencies,
        model.prior,
        settings.threshold,
        evidence=True,
        conflict=settings.conflict,
    )


def match_records(
    records: pl.DataFrame,
    threshold: float | None = None,
    settings: MatchSettings | None = None,
    wh: Warehouse | None = None,
    groups: np.ndarray | None = None,
    model: MatchModel | None = None,
    keys_to: Path | None = None,
    scorer: PairScorer | None = None,
) -> MatchOutcome:
    """Probabilistic links between records (node, canonical customer fields, match columns) at or above the threshold.

    groups: each record's source (any codes, in the order of records), for the link type.
    wh: the warehouse whose DuckDB instance runs the blocking joins (see blocking.pairs_sharing), so
    that they share its memory limit. model: score with this fitted model (its rules, parameters and
    frequencies) instead of fitting one; without it the outcome's model is the one fitted here, and
    scoring these records with it gives the same links. keys_to: a Parquet file to write the blocking keys of
    the rules used to (blocking.pairs_sharing), when candidate pairs are made. scorer: scores the candidate
    pairs with the model (given or fitted) instead of this process (score_with_model's links; a fit then
    compares only the pairs it trains on here).
    """
    settings = settings or MatchSettings()
    threshold = settings.threshold if threshold is None else threshold
    comparisons = settings.comparisons
    empty = pl.DataFrame(
        schema={
            "left": pl.Int64,
            "right": pl.Int64,
            "match_probability": pl.Float64,
            "match_weight": pl.Float64,
            "rule": pl.String,
            **{f"l_{c.name}": pl.Int8 for c in comparisons},
            **{f"w_{c.name}": pl.Float64 for c in comparisons},
        }
    )
    if records.height < 2:
        return MatchOutcome(empty, 0, [], None)
    groups = np.zeros(records.height, np.int64) if groups is None else np.asarray(groups)
    decimals = decimal_marks(records, comparisons) if model is None else model.decimals
    prepared = prepare_records(records, comparisons, decimals)
    unreadable = unreadable_values(records, prepared, comparisons)
    unused = unused_comparisons(prepared, comparisons)
    if model is not None:
        pairs, skipped, _ = candidate_pairs(
            prepared.with_columns(grp=pl.Series(groups, dtype=pl.Int64)),
            model.rules,
            settings.max_block_size,
            wh,
            comparisons,
            link_type=settings.link_type,
            keys_to=keys_to,
        )
        links = empty
        if not pairs.is_empty() and scorer is not None:
            links = scorer(prepared, pairs, model, replace(settings, threshold=threshold))
        elif not pairs.is_empty():
            coded = code_records(prepared, comparisons, model.token_records)
            levels = comparison_levels(prepared, pairs, coded, comparisons)
            links = score_pairs(
                prepared,
                pairs,
                levels,
                model.parameters,
                model.frequencies,
                model.prior,
                threshold,
                evidence=True,
                conflict=settings.conflict,
            )
        return MatchOutcome(
            links,
            pairs.height,
            skipped,
            model.parameters,
            list(model.blocking),
            unreadable,
            unused,
            model.prior,
            model,
            prepared,
        )
    budget = pair_budget(prepared.height, settings.max_candidate_pairs)
    pairs, skipped, blocking = candidate_pairs(
        prepared.with_columns(grp=pl.Series(groups, dtype=pl.Int64)),
        settings.rules,
        settings.max_block_size,
        wh,
        comparisons,
        budget,
        settings.link_type,
        keys_to,
    )
    if pairs.is_empty():
        return MatchOutcome(empty, 0, skipped, None, blocking, unreadable=unreadable, unused=unused)
    coded = code_records(prepared, comparisons)
    # EM learns as well from a uniform sample of a million candidate pairs as from all of them
    sample = (
        np.random.default_rng(0).permutation(pairs.height)[:EM_SAMPLE] if pairs.height > EM_SAMPLE else None
    )
    # training and scoring nest the location levels each its own way (levels.nest_locations)
    if scorer is None:  # every pair compared here: the training pairs are a sample of them
        levels = comparison_levels(prepared, pairs, coded, comparisons, nesting=None)
        sampled = levels if sample is None else {name: level[sample] for name, level in levels.items()}
        training = nest_locations(sampled, comparisons, "training")
    else:  # the scorer compares every pair: here only those EM trains on (a pair's levels are its own)
        training = comparison_levels(
            prepared, pairs if sample is None else pairs[sample], coded, comparisons, "training"
        )
    u = estimate_u(
        prepared, coded=coded, comparisons=comparisons, groups=groups, link_type=settings.link_type
    )
    anchors = labelled_m(prepared, settings.max_block_size, coded, wh, comparisons, settings.conflict)
    parameters = estimate_parameters(
        training, u, anchors, max_different=em_caps(comparisons), personal=person_comparisons(comparisons)
    )
    parameters = Parameters(
        m=parameters.m,
        u=parameters.u,
        prior=parameters.prior,
        iterations=parameters.iterations,
        columns={c.name: c.column for c in comparisons},
    )
    coded_tokens = coded.token_records
    del training, coded
    # EM's prior is the match share among candidate pairs; two records taken at random match
    # far less often: as many expected matches, spread over all pairs of records that may link.
    all_pairs = _linkable_pairs(groups, settings.link_type)
    random_pair_prior = min(parameters.prior * pairs.height / max(all_pairs, 1), 0.5)
    fitted = MatchModel(
        parameters=parameters,
        prior=random_pair_prior,
        rules=tuple(rule.rule for rule in blocking if rule.chosen),
        frequencies=term_frequencies(prepared, comparisons),
        token_records=coded_tokens,
        decimals=decimals,
        blocking=tuple(blocking),
        records=records.height,
    )
    if scorer is not None:
        links = scorer(prepared, pairs, fitted, replace(settings, threshold=threshold))
    else:
        links = score_pairs(
            prepared,
            pairs,
            nest_locations(levels, comparisons),
            parameters,
            fitted.frequencies,
            random_pair_prior,
            threshold,
            evidence=True,
            conflict=settings.conflict,
        )
    return MatchOutcome(
        links,
        pairs.height,
        skipped,
        parameters,
        blocking,
        unreadable=unreadable,
        unused=unused,
        prior=random_pair_prior,
        model=fitted,
        prepared=prepared,
    )


def unused_comparisons(prepared: pl.DataFrame, comparisons: Sequence[Comparison]) -> list[str]:
    """Configured comparisons (not built-in ones) without a single value among the prepared records."""
    return [
        c.name
        for c in comparisons
        if c not in DEFAULT_COMPARISONS and prepared[c.column].null_count() == prepared.height
    ]


def _linkable_pairs(groups: np.ndarray, link_type: str) -> float:
    """How many record pairs the link type allows."""
    n = groups.size
    everything = n * (n - 1) / 2
    if link_type == "link_and_dedupe":
        return everything
    sizes = np.unique(groups, return_counts=True)[1].astype(float)
    within = float((sizes * (sizes - 1) / 2).sum())
    return everything - within if link_type == "link_only" else within
