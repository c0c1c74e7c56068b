"""Comparing customer records: comparison-ready fields, and per pair an agreement level for each comparison.

1. `prepare_records`: comparison-ready fields (lowercase, unaccented, full-width folded,
   traditional→simplified, digits only).
2. `code_records`: every compared value coded against one vocabulary, so equality is an integer comparison.
3. `comparison_levels`: per pair and comparison, an agreement level (exact, close, loose, none;
   -1 when either side is missing), computed with rapidfuzz over whole columns.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import distance, process

from tasks.dedupe.normalize import simplified_converter

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

# Canonical customer fields the matcher reads (sql/core/match_records.sql selects them, in this order).
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
