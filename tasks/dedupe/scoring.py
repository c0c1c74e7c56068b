"""Scoring candidate pairs with a Fellegi–Sunter model, and the probabilistic matcher that puts it together.

Deterministic rules (a shared email, phone, device id or hashed national id) run first in
tasks.dedupe.graph. The matcher finds the pairs of records that share no strong identifier but
still agree strongly on name, birth date, address, city and partial identifiers: it prepares the
records (tasks.dedupe.comparisons), blocks them into candidate pairs (tasks.dedupe.blocking),
trains the model (tasks.dedupe.training) and scores each pair: the match weight (sum of log2 Bayes
factors) and the match probability in [0, 1]. Dedupe links pairs at or above the configured threshold.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from tasks.dedupe.blocking import candidate_pairs
from tasks.dedupe.comparisons import (
    COMPARISONS,
    PAIR_CHUNK,
    code_records,
    comparison_levels,
    node_positions,
    prepare_records,
)
from tasks.dedupe.training import (
    Parameters,
    estimate_parameters,
    estimate_u,
    labelled_m,
    term_frequencies,
)
from tasks.shared.contracts import DEFAULT_BLOCKING
from tasks.shared.warehouse import Warehouse

EM_SAMPLE = 1_000_000  # candidate pairs EM is trained on at most
# How the evidence behind a probabilistic link is named in identity_map (match_rule).
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
}
RULE_ORDER = ("name", "dob", "address", "city", "national_id", "email", "phone")


def score_pairs(
    prepared: pl.DataFrame,
    pairs: pl.DataFrame,
    levels: dict[str, np.ndarray],
    parameters: Parameters,
    frequencies: dict[str, dict[str, float]] | None = None,
    prior: float | None = None,
    min_probability: float | None = None,
) -> pl.DataFrame:
    """pairs with match_weight (log2 odds), match_probability and rule (the agreeing evidence).

    prior: the probability that two records match before looking at them (default: the share
    of matches among the candidate pairs, as EM found it). min_probability: keep only the pairs
    scored at least this (their rule is worked out for them alone). Pairs are scored in slices of
    PAIR_CHUNK, so the working arrays stay small however many pairs there are.
    """
    prior = parameters.prior if prior is None else prior
    # per record, the share of records with its value (term frequency), for the adjusted comparisons
    shares = {
        name: prepared[COMPARISONS[name][0]]
        .replace_strict(frequencies[name], default=None, return_dtype=pl.Float64)
        .fill_null(parameters.u[name][len(parameters.m[name]) - 1])
        .to_numpy()
        for name in levels
        if frequencies and name in frequencies
    }
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
) -> pl.DataFrame:
    """score_pairs for one slice of the pairs."""
    weight = np.full(pairs.height, np.log2(prior / (1 - prior)))
    agreeing: dict[str, np.ndarray] = {}
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
        part = RULE_PARTS.get(name)
        if part is not None:
            agreeing[part] = agreeing.get(part, np.zeros(pairs.height, bool)) | (seen & (contribution > 1.0))
    probability = 1 / (1 + np.exp2(-np.clip(weight, -60, 60)))
    keep = slice(None) if min_probability is None else np.flatnonzero(probability >= min_probability)
    rule_columns = [
        pl.when(pl.Series(agreeing[p][keep])).then(pl.lit(p)) for p in RULE_ORDER if p in agreeing
    ]
    rule = pl.concat_str(rule_columns, separator="_", ignore_nulls=True) if rule_columns else pl.lit("")
    kept = pairs if min_probability is None else pairs[keep]
    return kept.with_columns(
        match_weight=pl.Series(weight[keep], dtype=pl.Float64),
        match_probability=pl.Series(probability[keep], dtype=pl.Float64),
    ).with_columns(rule=pl.lit("probabilistic:") + rule)


@dataclass(frozen=True)
class MatchOutcome:
    """Probabilistic links above the threshold, and what the matcher did to find them."""

    links: pl.DataFrame  # left, right, match_probability, rule
    candidate_pairs: int
    skipped_blocks: list[str]
    parameters: Parameters | None


def match_records(
    records: pl.DataFrame,
    threshold: float,
    rules: Sequence[str] = DEFAULT_BLOCKING,
    max_block_size: int = 25,
    wh: Warehouse | None = None,
) -> MatchOutcome:
    """Probabilistic links between records (node plus canonical customer fields) at or above threshold.

    wh: the warehouse whose DuckDB instance runs the blocking joins (see blocking.pairs_sharing), so
    that they share its memory limit.
    """
    empty = pl.DataFrame(
        schema={"left": pl.Int64, "right": pl.Int64, "match_probability": pl.Float64, "rule": pl.String}
    )
    if records.height < 2:
        return MatchOutcome(empty, 0, [], None)
    prepared = prepare_records(records)
    pairs, skipped = candidate_pairs(prepared, rules, max_block_size, wh)
    if pairs.is_empty():
        return MatchOutcome(empty, 0, skipped, None)
    coded = code_records(prepared)
    levels = comparison_levels(prepared, pairs, coded)
    # EM learns as well from a uniform sample of a million candidate pairs as from all of them
    sample = (
        np.random.default_rng(0).permutation(pairs.height)[:EM_SAMPLE] if pairs.height > EM_SAMPLE else None
    )
    training = levels if sample is None else {name: level[sample] for name, level in levels.items()}
    parameters = estimate_parameters(
        training, estimate_u(prepared, coded=coded), labelled_m(prepared, max_block_size, coded, wh)
    )
    del training, coded
    # EM's prior is the match share among candidate pairs; two records taken at random match
    # far less often: as many expected matches, spread over all pairs of records.
    all_pairs = records.height * (records.height - 1) / 2
    random_pair_prior = min(parameters.prior * pairs.height / all_pairs, 0.5)
    links = score_pairs(
        prepared, pairs, levels, parameters, term_frequencies(prepared), random_pair_prior, threshold
    ).select("left", "right", "match_probability", "rule")
    return MatchOutcome(links, pairs.height, skipped, parameters)
