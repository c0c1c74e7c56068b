"""Training the Fellegi–Sunter model: u from random pairs, m from labelled pairs and EM, term frequencies.

u (chance agreement) comes from random record pairs; m (agreement among true matches) from pairs
that share a strong identifier and, with the prior match share, by expectation maximisation over
the candidate pairs, as Splink does. Exact agreement on a name or city uses the value's own
frequency as its u (term frequency adjustment: agreeing on 王伟 says less than agreeing on 欧阳娜娜).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from tasks.dedupe.blocking import pairs_sharing
from tasks.dedupe.comparisons import DEFAULT_COMPARISONS, Comparison, PersonConflict
from tasks.dedupe.levels import CodedRecords, comparison_levels
from tasks.shared.warehouse import Warehouse

# Strong identifiers: pairs sharing one are (almost always) true matches, the labels m is learnt from.
# Each labels every comparison except its own (a pair found by its email agrees on it by construction).
LABELLING_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "email": (("email",), "email"),
    "phone": (("phone",), "phone"),
    "national_id": (("national_id",), "national_id"),
}
MIN_LABELLED_PAIRS = 30


@dataclass(frozen=True)
class Parameters:
    """Fellegi–Sunter parameters: per comparison, m and u of each level; the prior match share."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    prior: float
    iterations: int
    columns: dict[str, str] = field(default_factory=dict)  # comparison -> the prepared column it reads


def capped(m: np.ndarray, max_different: float | None) -> np.ndarray:
    """m with its level 0 ("different") at most max_different, the other levels scaled to make up the rest."""
    if max_different is None or m[0] <= max_different:
        return m
    rest = m[1:] / m[1:].sum() if m[1:].sum() > 0 else np.full(m.size - 1, 1 / (m.size - 1))
    return np.concatenate([[max_different], rest * (1 - max_different)])


def em_caps(comparisons: Sequence[Comparison]) -> dict[str, float | None]:
    """Per comparison, the most EM's m may put on its level 0 ("different"): its max_m_different, else its
    em_max_different (the strong identifiers' IDENTIFIER_MAX_M_DIFFERENT), else no cap."""
    return {
        c.name: c.max_m_different if c.max_m_different is not None else c.em_max_different
        for c in comparisons
    }


def person_comparisons(comparisons: Sequence[Comparison]) -> set[str]:
    """The comparisons of names and birth dates (see estimate_parameters' personal)."""
    return {c.name for c in comparisons if c.kind in ("name", "birth_date")}


def monotone(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """m with its weights (log m/u) non-decreasing from level 0 ("different") to the exact level: a closer
    agreement is never evidence against a match. Adjacent levels that break the order are pooled (m/u weighted by
    u, pool adjacent violators), which keeps m's total. A fit in which agreeing on a family name weighs against a
    match (-8 bits, among pairs of one given name taken for matches) is a wrong mode, not a finding."""
    blocks: list[list[float]] = []  # [m, u, levels] per pooled block
    for m_level, u_level in zip(m, u, strict=True):
        blocks.append([float(m_level), float(u_level), 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]:
            last = blocks.pop()
            blocks[-1] = [blocks[-1][0] + last[0], blocks[-1][1] + last[1], blocks[-1][2] + last[2]]
    pooled = np.concatenate([np.full(int(n), block_m / block_u) for block_m, block_u, n in blocks]) * u
    return pooled / pooled.sum()


def _prior_m(levels: int) -> np.ndarray:
    """Starting m values: true matches mostly agree exactly (best level last)."""
    weights = np.array([0.05] + [0.05] * (levels - 2) + [0.9])[:levels]
    return weights / weights.sum()


def estimate_u(
    prepared: pl.DataFrame,
    sample: int = 200_000,
    seed: int = 0,
    coded: CodedRecords | None = None,
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
    groups: np.ndarray | None = None,
    link_type: str = "link_and_dedupe",
) -> dict[str, np.ndarray]:
    """u values: how often random record pairs reach each level (almost all of them are non-matches).

    groups: each prepared row's source (codes), with link_type: random pairs are drawn among the
    pairs that may link (across sources for link_only, within one for dedupe_only).
    """
    n = prepared.height
    rng = np.random.default_rng(seed)
    size = min(sample, n * (n - 1) // 2) if n > 1 else 0
    left = rng.integers(0, n, size=size) if size else np.zeros(0, np.int64)
    right = rng.integers(0, n, size=size) if size else np.zeros(0, np.int64)
    keep = left != right
    if groups is not None and link_type != "link_and_dedupe":
        same = groups[left] == groups[right]
        keep &= ~same if link_type == "link_only" else same
    nodes = prepared["node"].to_numpy()
    pairs = pl.DataFrame({"left": nodes[left[keep]], "right": nodes[right[keep]]})
    levels = comparison_levels(prepared, pairs, coded, comparisons, "training")
    u = {}
    for item in comparisons:
        counts = np.bincount(levels[item.name][levels[item.name] >= 0], minlength=item.levels).astype(float)
        # a level never seen among random pairs is rare, not impossible
        u[item.name] = np.maximum(counts, 0.5) / max(counts.sum(), 1.0)
    return u


def labelled_m(
    prepared: pl.DataFrame,
    max_block_size: int = 25,
    coded: CodedRecords | None = None,
    wh: Warehouse | None = None,
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
    conflict: PersonConflict | None = None,
) -> dict[str, np.ndarray]:
    """m per comparison from pairs that share a strong identifier (LABELLING_RULES).

    Only the non-identifier comparisons (names, birth date, address, city, postcode, gender) learn
    here: records that share one identifier tend to share the others too (the easy duplicates), so
    labelled pairs understate how often true matches have a typo in a phone or email. A comparison
    with fewer than MIN_LABELLED_PAIRS labelled pairs is left out too; EM estimates what is left out.
    A pair that disagrees on a comparison with max_m_different (gender) is not a label: a household's
    landline or e-mail is shared by people who are not one another. Such a comparison's own m is then not
    learnt from the labels (none disagrees on it, by that choice): its "different" level takes the cap, and
    its other levels share the rest as the labels have them. Nor is a pair sharing a value that two people hold
    (conflict: given names that differ, and a sex, birth dates or an age; households.py judges a phone or e-mail so
    for linking, but a national id still links: for labels, which only need to be sure, it is judged too): where
    households share landlines and e-mails, such labels would teach the model that one person's records differ in
    given name and never in address.
    """
    found = []
    names = {c.name for c in comparisons}
    contradicting = [c.name for c in comparisons if c.max_m_different is not None]
    for rule, (columns, own) in LABELLING_RULES.items():
        if own not in names:
            continue
        pairs, _, _ = pairs_sharing(prepared, {rule: columns}, max_block_size, wh)
        if pairs.height:
            levels = comparison_levels(prepared, pairs, coded, comparisons, "training")
            agree = np.ones(pairs.height, dtype=bool)
            if conflict is not None:
                agree &= ~household_pairs(prepared, pairs, columns, conflict.pairs(levels))
            for name in contradicting:
                agree &= levels[name] != 0
            found.append((own, {name: level[agree] for name, level in levels.items()}))
    m = {}
    for item in comparisons:
        if item.name in LABELLING_RULES:
            continue  # identifiers agree together in easy duplicates: their m is left to EM
        parts = [levels[item.name] for own, levels in found if own != item.name]
        level = np.concatenate(parts) if parts else np.zeros(0, np.int8)
        level = level[level >= 0]
        if level.size >= MIN_LABELLED_PAIRS:
            counts = np.bincount(level, minlength=item.levels).astype(float) + 0.5  # no level impossible
            m[item.name] = counts / counts.sum()
            if item.max_m_different is not None:
                m[item.name] = capped(np.concatenate([[1.0], m[item.name][1:]]), item.max_m_different)
    return m


def household_pairs(
    prepared: pl.DataFrame, pairs: pl.DataFrame, columns: Sequence[str], two_people: np.ndarray
) -> np.ndarray:
    """Per pair sharing the values of columns, whether two people hold those values: two_people is true for one of
    the pairs sharing them (a household's landline: its same-sex siblings' pair is no label either)."""
    shared = pairs.select("left").join(
        prepared.select(pl.col("node").alias("left"), *columns), on="left", how="left", maintain_order="left"
    )
    keyed = shared.select(pl.struct(columns).alias("value"), pl.Series("two", two_people))
    held = keyed.filter("two")["value"].unique()
    return keyed["value"].is_in(held.implode()).to_numpy()


def level_patterns(
    levels: dict[str, np.ndarray], u: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct combinations of levels among the pairs (per comparison, its level in each combination)
    and how many pairs have each: EM works on a few thousand patterns instead of millions of pairs."""
    pairs = len(next(iter(levels.values()))) if levels else 0
    if pairs == 0:
        return {name: np.zeros(0, np.int8) for name in levels}, np.zeros(0)
    # every negative level is no evidence (missing -1, levels.IMPLIED, levels.INITIAL): counted as -1
    levels = {name: np.maximum(level, -1) for name, level in levels.items()}
    if np.prod([float(len(u[name]) + 1) for name in levels]) >= 2.0**62:  # too many for one int64 key
        distinct, counts = np.unique(np.stack(list(levels.values()), axis=1), axis=0, return_counts=True)
        return {name: distinct[:, i].astype(np.int8) for i, name in enumerate(levels)}, counts.astype(
            np.float64
        )
    key = np.zeros(pairs, np.int64)
    for name, level in levels.items():  # mixed radix: level + 1 (missing is -1) in base levels + 1
        key = key * (len(u[name]) + 1) + (level.astype(np.int64) + 1)
    distinct, counts = np.unique(key, return_counts=True)
    patterns = {}
    for name in reversed(levels):
        base = len(u[name]) + 1
        patterns[name] = (distinct % base - 1).astype(np.int8)
        distinct = distinct // base
    return {name: patterns[name] for name in levels}, counts.astype(np.float64)


# The fewest expected matches (EM's posterior summed over the pairs where a comparison is seen) its m is learnt
# from; below it the comparison keeps its prior m.
MIN_EM_SUPPORT = 10.0


def estimate_parameters(
    levels: dict[str, np.ndarray],
    u: dict[str, np.ndarray],
    fixed_m: dict[str, np.ndarray] | None = None,
    iterations: int = 40,
    tolerance: float = 1e-4,
    max_different: dict[str, float | None] | None = None,
    personal: Collection[str] = (),
) -> Parameters:
    """m values by expectation maximisation over the candidate pairs; u (random pairs) for scoring.

    The candidate pairs are a two-class mixture (matches, non-matches that share a blocking key);
    EM fits both classes, starting from the prior m and the random-pair u. The non-match class
    it finds is biased by blocking (blocked pairs agree on the blocking fields by construction),
    so scoring keeps the u of random pairs and takes only m and the match share from EM.
    fixed_m (e.g. from labelled_m) is kept as given: it anchors EM, which on its own can settle on
    a wrong mode (pairs that merely live in the same city) when fields are correlated.
    max_different (per comparison, em_caps): the most m may put on level 0 ("different"); EM's m is capped there
    at every step, so the mixture cannot settle on households as its matches, and kept monotone (see monotone).
    personal (person_comparisons): names and birth dates, on which one person's records agree far more often than
    two people's do. A difference on one of them weighs at least a bit against a match (m of "different" at most
    half its u, or its own cap if lower): EM cannot take pairs that differ on it as often as random pairs do for
    its matches. When two or more of them are held there, the fit is a wrong mode, not people (in a CRM without
    duplicates, pairs of one given name in one city whose family names and birth dates differ as strangers' do):
    EM runs again with their prior m fixed. One alone may be a field that says little in this data (a system's
    placeholder birth dates, nicknames) and stays held at a bit. A town or an address may say nothing (people
    move).
    """
    fixed_m = fixed_m or {}
    max_different = dict(max_different or {})
    for name in personal:  # a difference on a name or birth date weighs at least a bit against a match
        if name in u and name in levels:
            cap = max_different.get(name)
            max_different[name] = u[name][0] / 2 if cap is None else min(cap, u[name][0] / 2)
    patterns, counts = level_patterns(levels, u)
    total = float(counts.sum())
    m = {name: fixed_m.get(name, capped(_prior_m(len(u[name])), max_different.get(name))) for name in levels}
    blocked_u = {name: u[name].copy() for name in levels}
    prior = 0.1
    done = 0
    for iteration in range(1, iterations + 1):
        if total == 0:
            break
        done = iteration
        log_odds = np.full(counts.size, np.log(prior / (1 - prior)))
        for name, level in patterns.items():
            seen = level >= 0
            log_odds[seen] += np.log(m[name][level[seen]]) - np.log(blocked_u[name][level[seen]])
        posterior = 1 / (1 + np.exp(-np.clip(log_odds, -50, 50)))
        change = 0.0
        for name, level in patterns.items():
            seen = level >= 0
            targets = [(blocked_u, counts[seen] * (1 - posterior[seen]))]
            if name not in fixed_m:
                targets.append((m, counts[seen] * posterior[seen]))
            for target, weights in targets:
                tally = np.bincount(level[seen], weights=weights, minlength=len(m[name]))
                if target is m and tally.sum() < MIN_EM_SUPPORT:
                    continue  # too few likely matches show it (a town beside postcodes that agree): prior m
                updated = np.clip(tally / max(tally.sum(), 1e-9), 1e-4, None)
                updated /= updated.sum()
                if target is m:
                    updated = capped(monotone(updated, u[name]), max_different.get(name))
                change = max(change, float(np.abs(updated - target[name]).max()))
                target[name] = updated
        new_prior = float(np.clip((counts * posterior).sum() / total, 1e-6, 0.999))
        change = max(change, abs(new_prior - prior))
        prior = new_prior
        if change < tolerance:
            break
    # held at a bit by the cap above (learnt, not fixed): two or more mark a wrong mode
    indifferent = [
        name
        for name in sorted(personal)
        if name in m and name not in fixed_m and m[name][0] >= u[name][0] / 2 * (1 - 1e-9)
    ]
    if len(indifferent) >= 2:
        anchored = {name: capped(_prior_m(len(u[name])), max_different.get(name)) for name in indifferent}
        fixed_m = {**fixed_m, **anchored}
        return estimate_parameters(levels, u, fixed_m, iterations, tolerance, max_different, personal)
    return Parameters(m=m, u=u, prior=prior, iterations=done)


def term_frequencies(
    prepared: pl.DataFrame, comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS
) -> dict[str, pl.DataFrame]:
    """Share of records with each value (value, share), for the comparisons adjusted by term frequency."""
    result = {}
    for item in comparisons:
        if not item.term_frequency:
            continue
        values = prepared[item.column].drop_nulls()
        counts = values.value_counts()
        result[item.name] = counts.select(
            pl.col(item.column).alias("value"), (pl.col("count") / max(values.len(), 1)).alias("share")
        )
    return result
