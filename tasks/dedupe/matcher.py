"""Probabilistic matching of customer records: blocking, comparison levels and a Fellegi–Sunter score.

Deterministic rules (a shared email, phone, device id or hashed national id) run first in
tasks/dedupe.py. This module finds the pairs of records that share no strong identifier but
still agree strongly on name, birth date, address, city and partial identifiers:

1. `prepare_records`: comparison-ready fields (lowercase, unaccented, full-width folded,
   traditional→simplified, digits only). The integrator may swap it for the shared normalizers.
2. `candidate_pairs`: pairs sharing a blocking key (DuckDB SQL); blocks larger than
   `max_block_size` are skipped, so the number of pairs stays near-linear in the records.
3. `comparison_levels`: per pair and comparison, an agreement level (exact, close, loose, none;
   -1 when either side is missing), computed with rapidfuzz over whole columns.
4. `estimate_parameters`: u (chance agreement) from random record pairs, m (agreement among true
   matches) and the prior match share by expectation maximisation over the candidate pairs, as
   Splink does. Exact agreement on a name or city uses the value's own frequency as its u (term
   frequency adjustment: agreeing on 王伟 says less than agreeing on 欧阳娜娜).
5. `score_pairs`: the match weight (sum of log2 Bayes factors) and probability of each pair.

The score is a match probability in [0, 1]; dedupe links pairs at or above the configured threshold.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl
from rapidfuzz import distance, process

from tasks.dedupe.normalize import simplified_converter
from tasks.shared.contracts import BLOCKING_RULES, DEFAULT_BLOCKING

# Strong identifiers: pairs sharing one are (almost always) true matches, the labels m is learnt from.
# Each labels every comparison except its own (a pair found by its email agrees on it by construction).
LABELLING_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "email": (("email",), "email"),
    "phone": (("phone",), "phone"),
    "national_id": (("national_id",), "national_id"),
}
MIN_LABELLED_PAIRS = 30
EM_SAMPLE = 1_000_000  # candidate pairs EM is trained on at most
PAIR_CHUNK = 2_500_000  # candidate pairs compared or scored at a time (bounds the working memory)

# Comparison -> (prepared column, kind). Kinds decide the levels, see comparison_levels.
COMPARISONS: dict[str, tuple[str, str]] = {
    "given": ("given", "name"),
    "family": ("family", "name"),
    "dob": ("dob", "date"),
    "address": ("address", "text"),
    "city": ("city", "place"),
    "postcode": ("postcode", "code"),
    "national_id": ("national_id", "code"),
    "email": ("email_local", "email"),
    "phone": ("phone", "code"),
    "gender": ("gender", "exact"),
}
# Levels per kind, best first; level 0 is always "disagrees". Priors seed the m values of EM.
LEVELS: dict[str, int] = {"name": 4, "date": 4, "text": 4, "place": 3, "code": 3, "email": 3, "exact": 2}
# Jaro-Winkler similarity from which a name, text or place pair reaches each level below exact, best first.
SIMILARITY_LEVELS: dict[str, tuple[float, ...]] = {"name": (0.92, 0.8), "text": (0.9, 0.75), "place": (0.88,)}
# Comparisons whose exact level is adjusted by the value's frequency.
TERM_FREQUENCY = ("given", "family", "city")
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

# Canonical customer fields the matcher reads (tasks/dedupe.py selects them from core.customer_records).
MATCH_FIELDS = (
    "full_name",
    "given_name",
    "family_name",
    "gender",
    "birth_date",
    "email_norm",
    "phone_norm",
    "national_id",
    "address",
    "city",
    "province",
    "postcode",
)

PREPARED_COLUMNS = (
    "node",
    "given",
    "family",
    "dob",
    "address",
    "city",
    "postcode",
    "province",
    "national_id",
    "email_local",
    "phone",
    "gender",
)


def _simplified(values: pl.Series) -> pl.Series:
    """Traditional Chinese characters as simplified (converted once per distinct value)."""
    distinct = values.drop_nulls().unique()
    cjk = distinct.filter(distinct.str.contains(r"\p{Han}"))
    if cjk.is_empty():
        return values
    converter = simplified_converter()
    mapping = dict(zip(cjk.to_list(), [converter.convert(v) for v in cjk.to_list()], strict=True))
    return values.replace(mapping)


def _text(column: str) -> pl.Expr:
    """Trimmed, lowercased, unaccented text with full-width forms folded; null when empty."""
    cleaned = (
        pl.col(column)
        .cast(pl.String)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[\s\u3000]+", " ")
        .str.strip_chars()
    )
    return (
        pl.when(cleaned.is_in(["", "-", "n/a", "na", "null", "none", "未知", "无", "不详"]))
        .then(None)
        .otherwise(cleaned)
    )


def _name(column: str) -> pl.Expr:
    """A name part for comparison: letters only (Latin or Han), no spaces, dots or hyphens."""
    letters = _text(column).str.replace_all(r"[^\p{L}]", "")
    return pl.when(letters == "").then(None).otherwise(letters)


def _digits(column: str) -> pl.Expr:
    digits = pl.col(column).cast(pl.String).str.replace_all(r"\D", "")
    return pl.when(digits == "").then(None).otherwise(digits)


def national_id_key_sql(column: str) -> str:
    """SQL for the key exact matching uses for a national id: a SHA-256 of its letters and digits, never the id."""
    cleaned = f"nullif(regexp_replace(upper(cast({column} as varchar)), '[^0-9A-Z]', '', 'g'), '')"
    return f"left(sha256('national_id:' || {cleaned}), 32)"


def prepare_records(records: pl.DataFrame) -> pl.DataFrame:
    """Comparison-ready fields of customer records, one row per node (PREPARED_COLUMNS and blocking helpers).

    records: node plus any of MATCH_FIELDS (missing columns count as null).
    A full name without parts is split: Han script into surname (first character) and given name,
    Latin script into first and last word.
    """
    frame = records.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in MATCH_FIELDS if c not in records.columns
    )
    for column in ("full_name", "given_name", "family_name", "city", "province", "address"):
        frame = frame.with_columns(_simplified(frame[column].cast(pl.String)).alias(column))
    full = _text("full_name")
    han = full.str.contains(r"^\p{Han}+$")
    first_word = full.str.extract(r"^(\S+)\s", 1)
    last_word = full.str.extract(r"\s(\S+)$", 1)
    frame = frame.with_columns(
        given=pl.coalesce(
            _name("given_name"),
            pl.when(han).then(full.str.slice(1)).otherwise(first_word),
            pl.when(~han & first_word.is_null()).then(full),
        ),
        family=pl.coalesce(
            _name("family_name"), pl.when(han).then(full.str.slice(0, 1)).otherwise(last_word)
        ),
    ).with_columns(
        given=pl.when(pl.col("given") == "")
        .then(None)
        .otherwise(pl.col("given").str.replace_all(r"[^\p{L}]", "")),
        family=pl.when(pl.col("family") == "")
        .then(None)
        .otherwise(pl.col("family").str.replace_all(r"[^\p{L}]", "")),
    )
    prepared = frame.select(
        "node",
        pl.when(pl.col("given") == "").then(None).otherwise(pl.col("given")).alias("given"),
        pl.when(pl.col("family") == "").then(None).otherwise(pl.col("family")).alias("family"),
        pl.col("birth_date").cast(pl.Date).dt.strftime("%Y%m%d").alias("dob"),
        _text("address").str.replace_all(r"[^\p{L}\p{N} ]", "").alias("address"),
        _text("city").str.replace_all(r"市$", "").alias("city"),
        _text("postcode").str.replace_all(r"\s", "").alias("postcode"),
        _text("province").str.replace_all(r"(省|市)$", "").alias("province"),
        pl.col("national_id")
        .cast(pl.String)
        .str.to_uppercase()
        .str.replace_all(r"[^0-9A-Z]", "")
        .alias("national_id"),
        _text("email_norm").str.extract(r"^([^@]+)@", 1).alias("email_local"),
        _text("email_norm").alias("email"),
        _digits("phone_norm").alias("phone"),
        _text("gender").str.slice(0, 1).alias("gender"),
    ).with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("address", "city", "postcode", "province", "national_id", "gender")
    )
    return prepared.with_columns(
        given1=pl.col("given").str.slice(0, 1),
        family1=pl.col("family").str.slice(0, 1),
        dob_year=pl.col("dob").str.slice(0, 4),
        dob_monthday=pl.col("dob").str.slice(4, 4),
        dob_swapped=pl.col("dob").str.slice(0, 4)
        + pl.col("dob").str.slice(6, 2)
        + pl.col("dob").str.slice(4, 2),
        phone_head=pl.col("phone").str.slice(0, pl.col("phone").str.len_chars() - 4),
    )


def candidate_pairs(
    prepared: pl.DataFrame,
    rules: Sequence[str] = DEFAULT_BLOCKING,
    max_block_size: int = 25,
    database: duckdb.DuckDBPyConnection | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Distinct pairs (left < right nodes) that share at least one blocking key.

    A block (one key value of one rule) with more than max_block_size records is skipped and
    reported ("rule=value (n records)"): its pairs would grow quadratically and say little.
    """
    unknown = sorted(set(rules) - set(BLOCKING_RULES))
    if unknown:
        raise ValueError(f"unknown blocking rules {unknown}; known: {', '.join(BLOCKING_RULES)}")
    return _pairs_sharing(prepared, {rule: BLOCKING_RULES[rule] for rule in rules}, max_block_size, database)


def _pairs_sharing(
    prepared: pl.DataFrame,
    rules: dict[str, tuple[str, ...]],
    max_block_size: int,
    database: duckdb.DuckDBPyConnection | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Distinct node pairs equal on all columns of at least one rule, skipping blocks above max_block_size.

    database: a connection whose database instance does the join (a cursor of it: its own temp
    tables, the instance's memory limit and spilling), e.g. the warehouse's; else an in-memory one.
    """
    selects = []
    for rule, columns in rules.items():
        key = " || chr(31) || ".join(f'"{c}"' for c in columns)
        present = " and ".join(f'"{c}" is not null' for c in columns)
        selects.append(f"select '{rule}' as rule, node, {key} as key from prepared where {present}")
    if not selects:
        return pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64}), []
    con = database.cursor() if database is not None else duckdb.connect()
    try:
        con.register("prepared", prepared.select("node", *{c for columns in rules.values() for c in columns}))
        con.execute(
            f"""
            create temp table keys as
            with keyed as ({" union all ".join(selects)}),
            sized as (select *, count(*) over (partition by rule, key) as block_size from keyed)
            select * from sized
            """
        )
        skipped = con.sql(
            """
            select rule, key, any_value(block_size) as records from keys
            where block_size > $max group by rule, key order by records desc, rule, key limit 20
            """,
            params={"max": max_block_size},
        ).fetchall()
        pairs = con.sql(
            """
            with usable as (select rule, key, node from keys where block_size between 2 and $max)
            select distinct a.node as left, b.node as right
            from usable a join usable b on a.rule = b.rule and a.key = b.key and a.node < b.node
            order by 1, 2
            """,
            params={"max": max_block_size},
        ).pl()
    finally:
        con.close()
    described = [f"{rule}={key.replace(chr(31), '|')} ({records} records)" for rule, key, records in skipped]
    return pairs.cast({"left": pl.Int64, "right": pl.Int64}), described


def _pair_similarity(
    vocabulary: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    scorer: object,
    default: float,
    cutoff: float,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """scorer(vocabulary[a], vocabulary[b]) per pair of value codes, computed once per distinct pair.

    Codes are -1 where the value is missing; pairs with a missing or equal value, or where skip is
    true (the caller does not use their similarity), get default. cutoff is rapidfuzz's score_cutoff:
    a similarity below it (a distance above it) is not worked out exactly, only reported as beyond it.
    """
    result = np.full(a.size, default, dtype=np.float64)
    mask = (a >= 0) & (b >= 0) & (a != b)
    if skip is not None:
        mask &= ~skip
    if not mask.any():
        return result
    size = vocabulary.size
    # distinct value pairs by hashing (polars), not by sorting: millions of pairs, few distinct ones
    keyed = pl.DataFrame({"key": a[mask].astype(np.int64) * size + b[mask]})
    distinct = keyed.unique("key")["key"].to_numpy()
    scores = process.cpdist(
        vocabulary[distinct // size],
        vocabulary[distinct % size],
        scorer=scorer,
        score_cutoff=cutoff,
        workers=-1,
        dtype=np.float32,
    )
    lookup = pl.DataFrame({"key": distinct, "score": scores})
    result[mask] = keyed.join(lookup, on="key", how="left", maintain_order="left")["score"].to_numpy()
    return result


@dataclass(frozen=True)
class CodedRecords:
    """Prepared records coded against one shared vocabulary, so equality is an integer comparison.

    Built once per matching run (code_records) and shared by every comparison_levels call.
    """

    position: np.ndarray  # node -> row of prepared (-1: not a record)
    words: np.ndarray  # the vocabulary (object array of str), sorted
    han: np.ndarray  # per word: written in Han script
    codes: dict[str, np.ndarray]  # prepared column -> code of each row's value (-1: missing)


def node_positions(prepared: pl.DataFrame) -> np.ndarray:
    """node -> row of prepared (-1: not a record), to look up a pair's records by their nodes."""
    position = np.full(int(prepared["node"].max()) + 1 if prepared.height else 1, -1, dtype=np.int64)
    position[prepared["node"].to_numpy()] = np.arange(prepared.height)
    return position


def code_records(prepared: pl.DataFrame) -> CodedRecords:
    """Code every compared column of prepared against one vocabulary (also across columns: given
    against family, birth date against its day-month swap)."""
    columns = sorted({column for column, _ in COMPARISONS.values()} | {"dob_swapped"})
    vocabulary = pl.concat([prepared[c].drop_nulls() for c in columns]).unique().sort()
    index = pl.DataFrame({"value": vocabulary, "code": np.arange(vocabulary.len(), dtype=np.int32)})
    codes = {
        column: prepared.select(value=pl.col(column))
        .join(index, on="value", how="left", maintain_order="left")["code"]
        .fill_null(-1)
        .to_numpy()
        for column in columns
    }
    return CodedRecords(
        position=node_positions(prepared),
        words=vocabulary.to_numpy().astype(object),
        han=vocabulary.str.contains(r"\p{Han}").to_numpy(),
        codes=codes,
    )


def comparison_levels(
    prepared: pl.DataFrame, pairs: pl.DataFrame, coded: CodedRecords | None = None
) -> dict[str, np.ndarray]:
    """Agreement level per comparison and pair: LEVELS[kind]-1 is exact, 0 disagrees, -1 missing.

    Values are compared by their codes (see CodedRecords; pass `coded` to reuse one coding across
    calls) and string similarity is computed once per distinct pair of values, not once per pair of records.
    """
    coded = coded or code_records(prepared)
    if pairs.height > PAIR_CHUNK:  # in slices: the working arrays stay small, the levels are int8
        parts = [
            comparison_levels(prepared, pairs.slice(start, PAIR_CHUNK), coded)
            for start in range(0, pairs.height, PAIR_CHUNK)
        ]
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    left = coded.position[pairs["left"].to_numpy()]
    right = coded.position[pairs["right"].to_numpy()]
    words, han_word = coded.words, coded.han

    def codes(column: str) -> tuple[np.ndarray, np.ndarray]:
        code = coded.codes[column]
        return code[left], code[right]

    jaro = distance.JaroWinkler.normalized_similarity
    lev = distance.Levenshtein.distance
    levels: dict[str, np.ndarray] = {}
    for name, (column, kind) in COMPARISONS.items():
        a, b = codes(column)
        missing = (a < 0) | (b < 0)
        exact = a == b
        if kind in ("name", "place", "text"):
            # Han script: one character more or less is another name, not a typo
            han = (han_word[np.maximum(a, 0)] & (a >= 0)) | (han_word[np.maximum(b, 0)] & (b >= 0))
            # only similarities from the lowest level's threshold up are used (a hair below it, so
            # that rounding to float32 lands every pair on the same level as without the cutoff)
            thresholds = SIMILARITY_LEVELS[kind]
            sim = _pair_similarity(words, a, b, jaro, 0.0, thresholds[-1] - 1e-6, skip=han)
            top = len(thresholds) + 1  # exact
            level = np.select([exact, *(sim >= t for t in thresholds)], list(range(top, 0, -1)), 0)
        elif kind == "email":
            level = np.select([exact, _pair_similarity(words, a, b, lev, 99, 1) <= 1], [2, 1], 0)
        elif kind == "date":
            edits = _pair_similarity(words, a, b, lev, 99, 2)
            swapped = (codes("dob_swapped")[0] == b) & (b >= 0)  # day and month the other way round
            level = np.select([exact, (edits <= 1) | swapped, edits <= 2], [3, 2, 1], 0)
        elif kind == "code":
            level = np.select([exact, _pair_similarity(words, a, b, lev, 99, 1) <= 1], [2, 1], 0)
        else:
            level = exact.astype(np.int64)
        levels[name] = np.where(missing, -1, level).astype(np.int8)
    # given and family name written the other way round: both count as agreeing exactly
    ga, gb = codes("given")
    fa, fb = codes("family")
    swapped = (ga == fb) & (fa == gb) & (ga >= 0) & (fa >= 0) & (ga != fa)
    levels["given"] = np.where(swapped, 3, levels["given"]).astype(np.int8)
    levels["family"] = np.where(swapped, 3, levels["family"]).astype(np.int8)
    return levels


@dataclass(frozen=True)
class Parameters:
    """Fellegi–Sunter parameters: per comparison, m and u of each level; the prior match share."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    prior: float
    iterations: int


def _prior_m(levels: int) -> np.ndarray:
    """Starting m values: true matches mostly agree exactly (best level last)."""
    weights = np.array([0.05] + [0.05] * (levels - 2) + [0.9])[:levels]
    return weights / weights.sum()


def estimate_u(
    prepared: pl.DataFrame, sample: int = 200_000, seed: int = 0, coded: CodedRecords | None = None
) -> dict[str, np.ndarray]:
    """u values: how often random record pairs reach each level (almost all of them are non-matches)."""
    n = prepared.height
    rng = np.random.default_rng(seed)
    size = min(sample, n * (n - 1) // 2) if n > 1 else 0
    left = rng.integers(0, n, size=size) if size else np.zeros(0, np.int64)
    right = rng.integers(0, n, size=size) if size else np.zeros(0, np.int64)
    keep = left != right
    nodes = prepared["node"].to_numpy()
    pairs = pl.DataFrame({"left": nodes[left[keep]], "right": nodes[right[keep]]})
    levels = comparison_levels(prepared, pairs, coded)
    u = {}
    for name, (_, kind) in COMPARISONS.items():
        counts = np.bincount(levels[name][levels[name] >= 0], minlength=LEVELS[kind]).astype(float)
        # a level never seen among random pairs is rare, not impossible
        u[name] = np.maximum(counts, 0.5) / max(counts.sum(), 1.0)
    return u


def labelled_m(
    prepared: pl.DataFrame,
    max_block_size: int = 25,
    coded: CodedRecords | None = None,
    database: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, np.ndarray]:
    """m per comparison from pairs that share a strong identifier (LABELLING_RULES).

    Only the non-identifier comparisons (names, birth date, address, city, postcode, gender) learn
    here: records that share one identifier tend to share the others too (the easy duplicates), so
    labelled pairs understate how often true matches have a typo in a phone or email. A comparison
    with fewer than MIN_LABELLED_PAIRS labelled pairs is left out too; EM estimates what is left out.
    """
    found = []
    for rule, (columns, own) in LABELLING_RULES.items():
        pairs, _ = _pairs_sharing(prepared, {rule: columns}, max_block_size, database)
        if pairs.height:
            found.append((own, comparison_levels(prepared, pairs, coded)))
    m = {}
    for name, (_, kind) in COMPARISONS.items():
        if name in LABELLING_RULES:
            continue  # identifiers agree together in easy duplicates: their m is left to EM
        parts = [levels[name] for own, levels in found if own != name]
        level = np.concatenate(parts) if parts else np.zeros(0, np.int8)
        level = level[level >= 0]
        if level.size >= MIN_LABELLED_PAIRS:
            counts = np.bincount(level, minlength=LEVELS[kind]).astype(float) + 0.5  # no level impossible
            m[name] = counts / counts.sum()
    return m


def estimate_parameters(
    levels: dict[str, np.ndarray],
    u: dict[str, np.ndarray],
    fixed_m: dict[str, np.ndarray] | None = None,
    iterations: int = 40,
    tolerance: float = 1e-4,
) -> Parameters:
    """m values by expectation maximisation over the candidate pairs; u (random pairs) for scoring.

    The candidate pairs are a two-class mixture (matches, non-matches that share a blocking key);
    EM fits both classes, starting from the prior m and the random-pair u. The non-match class
    it finds is biased by blocking (blocked pairs agree on the blocking fields by construction),
    so scoring keeps the u of random pairs and takes only m and the match share from EM.
    fixed_m (e.g. from labelled_m) is kept as given: it anchors EM, which on its own can settle on
    a wrong mode (pairs that merely live in the same city) when fields are correlated.
    """
    fixed_m = fixed_m or {}
    pairs = len(next(iter(levels.values()))) if levels else 0
    m = {name: fixed_m.get(name, _prior_m(LEVELS[COMPARISONS[name][1]])) for name in levels}
    blocked_u = {name: u[name].copy() for name in levels}
    prior = 0.1
    done = 0
    for iteration in range(1, iterations + 1):
        if pairs == 0:
            break
        done = iteration
        log_odds = np.full(pairs, np.log(prior / (1 - prior)))
        for name, level in levels.items():
            seen = level >= 0
            log_odds[seen] += np.log(m[name][level[seen]]) - np.log(blocked_u[name][level[seen]])
        posterior = 1 / (1 + np.exp(-np.clip(log_odds, -50, 50)))
        change = 0.0
        for name, level in levels.items():
            seen = level >= 0
            targets = [(blocked_u, 1 - posterior[seen])]
            if name not in fixed_m:
                targets.append((m, posterior[seen]))
            for target, weights in targets:
                counts = np.bincount(level[seen], weights=weights, minlength=len(m[name]))
                updated = np.clip(counts / max(counts.sum(), 1e-9), 1e-4, None)
                updated /= updated.sum()
                change = max(change, float(np.abs(updated - target[name]).max()))
                target[name] = updated
        new_prior = float(np.clip(posterior.mean(), 1e-6, 0.999))
        change = max(change, abs(new_prior - prior))
        prior = new_prior
        if change < tolerance:
            break
    return Parameters(m=m, u=u, prior=prior, iterations=done)


def term_frequencies(prepared: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Share of records with each value, for the comparisons adjusted by term frequency."""
    result = {}
    for name in TERM_FREQUENCY:
        column = COMPARISONS[name][0]
        values = prepared[column].drop_nulls()
        counts = values.value_counts()
        result[name] = dict(
            zip(counts[column].to_list(), (counts["count"] / max(values.len(), 1)).to_list(), strict=True)
        )
    return result


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
    database: duckdb.DuckDBPyConnection | None = None,
) -> MatchOutcome:
    """Probabilistic links between records (node plus canonical customer fields) at or above threshold.

    database: where the blocking joins run (see _pairs_sharing), e.g. the warehouse connection, so
    that they share its memory limit.
    """
    empty = pl.DataFrame(
        schema={"left": pl.Int64, "right": pl.Int64, "match_probability": pl.Float64, "rule": pl.String}
    )
    if records.height < 2:
        return MatchOutcome(empty, 0, [], None)
    prepared = prepare_records(records)
    pairs, skipped = candidate_pairs(prepared, rules, max_block_size, database)
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
        training, estimate_u(prepared, coded=coded), labelled_m(prepared, max_block_size, coded, database)
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
