"""Comparing customer records: comparison-ready fields, and per pair an agreement level for each comparison.

1. `prepare_records`: comparison-ready fields (lowercase, unaccented, full-width folded,
   traditional→simplified, digits only).
2. `code_records`: every compared value coded against one vocabulary, so equality is an integer comparison.
3. `comparison_levels`: per pair and comparison, an agreement level (exact, close, loose, none;
   -1 when either side is missing), computed with rapidfuzz over whole columns.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import distance, process

from tasks.dedupe.normalize import simplified_converter

PAIR_CHUNK = 2_500_000  # candidate pairs compared or scored at a time (bounds the working memory)

# Default cuts of the levels below exact, best first (see Comparison).
DEFAULT_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "name": (0.92, 0.8),  # Jaro-Winkler similarity
    "string": (0.9, 0.75),
    "place": (0.88,),
    "text": (0.8, 0.5, 0.25),  # share of token weight in common (Dice, rare tokens weigh more)
}
DEFAULT_WINDOWS_DAYS = (1, 7, 30)
DEFAULT_ABS_TOLERANCE = (0.01,)
DEFAULT_REL_TOLERANCE = (0.01, 0.1)
# Kinds compared as numbers (days for dates), not as coded strings.
NUMERIC_KINDS = frozenset({"date", "numeric"})
# Kinds whose values are Jaro-Winkler compared (Han script: exact or different).
SIMILARITY_KINDS = frozenset({"name", "string", "place"})

# Canonical customer fields -> the prepared column comparisons read (email: its local part, for the
# email kind; the whole address otherwise).
CANONICAL_COLUMNS: dict[str, str] = {
    "given_name": "given",
    "family_name": "family",
    "full_name": "full",
    "birth_date": "dob",
    "email": "email_local",
    "phone": "phone",
    "national_id": "national_id",
    "address": "address",
    "city": "city",
    "province": "province",
    "postcode": "postcode",
    "gender": "gender",
    "country": "country",
}


@dataclass(frozen=True)
class Comparison:
    """One comparison of the matcher: an attribute, a kind, and how the kind's levels are cut.

    Levels are numbered from 0 (disagrees) up to levels - 1 (agrees exactly); -1 is "missing on a
    side" and counts as no evidence. Kinds (see tasks.shared.config.ComparisonConfig):
    exact; name, string, place (Jaro-Winkler at thresholds); code, email (one edit); birth_date (one
    edit or day/month swapped, within a year, within 10 years); date (within windows_days); numeric (abs_tolerance, then
    rel_tolerance); postcode (one edit, same district, same area); text (weighted token overlap).
    """

    name: str
    attribute: str  # a canonical customer field or a match column of the customers sources
    kind: str
    thresholds: tuple[float, ...] = ()
    windows_days: tuple[int, ...] = ()
    abs_tolerance: tuple[float, ...] = ()
    rel_tolerance: tuple[float, ...] = ()
    term_frequency: bool = False

    @property
    def canonical(self) -> bool:
        """Whether the attribute is a canonical customer field (else a match column)."""
        return self.attribute in CANONICAL_COLUMNS

    @property
    def column(self) -> str:
        """The prepared column compared (numbers for date and numeric kinds)."""
        if self.canonical and self.kind not in NUMERIC_KINDS:
            if self.attribute == "email" and self.kind != "email":
                return "email"
            return CANONICAL_COLUMNS[self.attribute]
        return f"c_{self.name}"

    def labels(self) -> tuple[str, ...]:
        """What each level means, level 0 (disagrees) first, the exact level last."""
        kind = self.kind
        if kind in SIMILARITY_KINDS:
            cuts = [f"similarity >= {t:g}" for t in reversed(self.thresholds)]
        elif kind == "text":
            cuts = [f"tokens in common >= {t:.0%}" for t in reversed(self.thresholds)]
        elif kind in ("code", "email"):
            cuts = ["one edit apart"]
        elif kind == "birth_date":
            cuts = ["within 10 years", "within a year", "one edit apart or day and month swapped"]
        elif kind == "date":
            cuts = [f"within {d} days" for d in reversed(self.windows_days)]
        elif kind == "numeric":
            cuts = [f"within {t:.0%}" for t in reversed(self.rel_tolerance)]
            cuts += [f"within {t:g}" for t in reversed(self.abs_tolerance)]
        elif kind == "postcode":
            cuts = ["same area", "same district", "one edit apart"]
        else:
            cuts = []
        return ("different", *cuts, "exact")

    @property
    def levels(self) -> int:
        """Number of levels (disagreeing and exact included)."""
        return len(self.labels())


def comparison(
    name: str,
    kind: str,
    attribute: str | None = None,
    thresholds: Sequence[float] | None = None,
    windows_days: Sequence[int] | None = None,
    abs_tolerance: Sequence[float] | None = None,
    rel_tolerance: Sequence[float] | None = None,
    term_frequency: bool = False,
) -> Comparison:
    """A Comparison with the kind's default cuts where none are given (sorted best first)."""
    return Comparison(
        name=name,
        attribute=attribute or name,
        kind=kind,
        thresholds=tuple(sorted(thresholds or DEFAULT_THRESHOLDS.get(kind, ()), reverse=True))
        if kind in DEFAULT_THRESHOLDS
        else (),
        windows_days=tuple(sorted(windows_days or DEFAULT_WINDOWS_DAYS)) if kind == "date" else (),
        abs_tolerance=tuple(sorted(abs_tolerance or DEFAULT_ABS_TOLERANCE)) if kind == "numeric" else (),
        rel_tolerance=tuple(sorted(rel_tolerance or DEFAULT_REL_TOLERANCE)) if kind == "numeric" else (),
        term_frequency=term_frequency,
    )


# The built-in comparisons, on canonical customer fields.
DEFAULT_COMPARISONS: tuple[Comparison, ...] = (
    comparison("given", "name", "given_name", term_frequency=True),
    comparison("family", "name", "family_name", term_frequency=True),
    comparison("dob", "birth_date", "birth_date"),
    comparison("address", "string", "address"),
    comparison("city", "place", "city", term_frequency=True),
    comparison("postcode", "code", "postcode", term_frequency=True),
    comparison("national_id", "code", "national_id"),
    comparison("email", "email", "email"),
    comparison("phone", "code", "phone"),
    comparison("gender", "exact", "gender"),
)


def build_comparisons(configured: Sequence[object] = ()) -> tuple[Comparison, ...]:
    """The built-in comparisons with the configured ones (tasks.shared.config.ComparisonConfig) applied:
    one of the same name replaces the built-in one, others are added after them in config order."""
    made = {
        c.name: comparison(
            c.name,
            c.kind,
            c.attribute,
            c.thresholds,
            c.windows_days,
            c.abs_tolerance,
            c.rel_tolerance,
            c.term_frequency,
        )
        for c in configured
    }
    result = [made.pop(c.name, c) for c in DEFAULT_COMPARISONS]
    return (*result, *made.values())


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
    "country",
)

PREPARED_COLUMNS = (
    "node",
    "given",
    "family",
    "full",
    "dob",
    "address",
    "city",
    "postcode",
    "province",
    "country",
    "national_id",
    "email_local",
    "email",
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


def _number_column(records: pl.DataFrame, attribute: str, kind: str) -> pl.Series:
    """An attribute as numbers for a date or numeric comparison (null where unreadable)."""
    values = records[attribute]
    if kind == "date":
        if values.dtype == pl.String:
            values = values.str.strip_chars().str.slice(0, 10).str.to_date(strict=False)
        elif values.dtype != pl.Date:
            values = values.cast(pl.Date, strict=False)
        return values.cast(pl.Int32, strict=False).cast(pl.Float64)
    if values.dtype == pl.String:
        values = values.str.replace_all(r"[,\s¥￥$€£元]", "")
    numbers = values.cast(pl.Float64, strict=False)
    return numbers.fill_nan(None)


def _attribute_column(records: pl.DataFrame, item: Comparison) -> pl.Expr:
    """The prepared values of a match column (or a canonical field compared by another kind than built in)."""
    source = item.attribute if item.attribute in records.columns else _RECORD_FIELDS.get(item.attribute)
    if item.kind in NUMERIC_KINDS:
        return pl.lit(_number_column(records, source, item.kind)).alias(item.column)
    if item.kind == "name":
        return _name(source).alias(item.column)
    if item.kind == "birth_date":
        return pl.col(source).cast(pl.Date, strict=False).dt.strftime("%Y%m%d").alias(item.column)
    text = _text(source)
    if item.kind in ("postcode", "code"):
        text = text.str.replace_all(r"[\s\-]", "")
    return pl.when(text == "").then(None).otherwise(text).alias(item.column)


# Canonical customer fields as named in the matcher's records (sql/core/match_records.sql).
_RECORD_FIELDS = {"email": "email_norm", "phone": "phone_norm"}


def prepare_records(
    records: pl.DataFrame, comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS
) -> pl.DataFrame:
    """Comparison-ready fields of customer records, one row per node (PREPARED_COLUMNS, blocking helpers,
    and a c_<name> column per comparison of a match column or of numbers).

    records: node plus any of MATCH_FIELDS (missing columns count as null) and the match columns.
    A full name without parts is split: Han script into surname (first character) and given name,
    Latin script into first and last word.
    """
    frame = records.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in MATCH_FIELDS if c not in records.columns
    )
    extra = [c for c in comparisons if c.column.startswith("c_")]
    text_attributes = {
        c.attribute
        for c in extra
        if c.attribute in frame.columns
        and frame[c.attribute].dtype == pl.String
        and c.kind not in NUMERIC_KINDS
    }
    for column in ("full_name", "given_name", "family_name", "city", "province", "address", *text_attributes):
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
        full.str.replace_all(r"[^\p{L} ]", "").alias("full"),
        pl.col("birth_date").cast(pl.Date).dt.strftime("%Y%m%d").alias("dob"),
        _text("address").str.replace_all(r"[^\p{L}\p{N} ]", "").alias("address"),
        _text("city").str.replace_all(r"市$", "").alias("city"),
        _text("postcode").str.replace_all(r"\s", "").alias("postcode"),
        _text("province").str.replace_all(r"(省|市)$", "").alias("province"),
        _text("country").alias("country"),
        pl.col("national_id")
        .cast(pl.String)
        .str.to_uppercase()
        .str.replace_all(r"[^0-9A-Z]", "")
        .alias("national_id"),
        _text("email_norm").str.extract(r"^([^@]+)@", 1).alias("email_local"),
        _text("email_norm").alias("email"),
        _digits("phone_norm").alias("phone"),
        _text("gender").str.slice(0, 1).alias("gender"),
        *(_attribute_column(frame, c) for c in extra),
    ).with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("full", "address", "city", "postcode", "province", "country", "national_id", "gender")
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


def text_tokens(values: pl.Expr) -> pl.Expr:
    """The tokens of a free text: runs of letters, runs of digits, each Han character on its own."""
    return values.str.to_lowercase().str.extract_all(r"\p{Han}|[\p{L}--\p{Han}]+|\p{N}+").list.unique()


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
    numbers: dict[str, np.ndarray]  # prepared column of a date or numeric comparison -> values (NaN: missing)
    tokens: dict[str, pl.DataFrame]  # text column -> code, token, weight (rare tokens weigh more)
    token_weight: dict[str, np.ndarray]  # text column -> per word code, the weight of all its tokens


def node_positions(prepared: pl.DataFrame) -> np.ndarray:
    """node -> row of prepared (-1: not a record), to look up a pair's records by their nodes."""
    position = np.full(int(prepared["node"].max()) + 1 if prepared.height else 1, -1, dtype=np.int64)
    position[prepared["node"].to_numpy()] = np.arange(prepared.height)
    return position


def code_records(
    prepared: pl.DataFrame, comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS
) -> CodedRecords:
    """Code every compared column of prepared against one vocabulary (also across columns: given
    against family, birth date against its day-month swap); numbers as they are; text tokens with weights."""
    numeric = sorted({c.column for c in comparisons if c.kind in NUMERIC_KINDS})
    # birth dates are also compared by days apart (written yyyymmdd)
    days = sorted({c.column for c in comparisons if c.kind == "birth_date"})
    columns = sorted({c.column for c in comparisons if c.kind not in NUMERIC_KINDS} | {"dob_swapped"})
    vocabulary = pl.concat([prepared[c].cast(pl.String).drop_nulls() for c in columns]).unique().sort()
    index = pl.DataFrame({"value": vocabulary, "code": np.arange(vocabulary.len(), dtype=np.int32)})
    codes = {
        column: prepared.select(value=pl.col(column).cast(pl.String))
        .join(index, on="value", how="left", maintain_order="left")["code"]
        .fill_null(-1)
        .to_numpy()
        for column in columns
    }
    tokens, token_weight = {}, {}
    for column in sorted({c.column for c in comparisons if c.kind == "text"}):
        # document frequency of each token among the records; weight log(records / frequency)
        per_record = pl.DataFrame({"code": codes[column]}).filter(pl.col("code") >= 0)
        words = index.filter(pl.col("code").is_in(per_record["code"].unique().implode()))
        coded = words.select("code", token=text_tokens(pl.col("value"))).explode("token").drop_nulls()
        frequency = per_record.join(coded, on="code").group_by("token").len().rename({"len": "records"})
        total = max(per_record.height, 1)
        weighted = coded.join(frequency, on="token").with_columns(
            weight=(pl.lit(total + 1.0) / pl.col("records")).log()
        )
        tokens[column] = weighted.select("code", "token", "weight")
        sums = weighted.group_by("code").agg(pl.col("weight").sum())
        total_weight = np.zeros(vocabulary.len(), dtype=np.float64)
        total_weight[sums["code"].to_numpy()] = sums["weight"].to_numpy()
        token_weight[column] = total_weight
    return CodedRecords(
        position=node_positions(prepared),
        words=vocabulary.to_numpy().astype(object),
        han=vocabulary.str.contains(r"\p{Han}").to_numpy(),
        codes=codes,
        numbers={c: prepared[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in numeric}
        | {
            c: prepared[c]
            .str.to_date("%Y%m%d", strict=False)
            .cast(pl.Int32)
            .cast(pl.Float64)
            .fill_null(np.nan)
            .to_numpy()
            for c in days
        },
        tokens=tokens,
        token_weight=token_weight,
    )


def _token_overlap(coded: CodedRecords, column: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weighted Dice overlap of the tokens of two texts per pair of value codes (0 where either is missing)."""
    result = np.zeros(a.size, dtype=np.float64)
    mask = (a >= 0) & (b >= 0)
    result[mask & (a == b)] = 1.0
    mask &= a != b
    if not mask.any():
        return result
    size = coded.words.size
    keyed = pl.DataFrame({"key": a[mask].astype(np.int64) * size + b[mask]})
    distinct = keyed.unique("key").with_columns(a=pl.col("key") // size, b=pl.col("key") % size)
    tokens = coded.tokens[column]
    common = (
        distinct.join(tokens.rename({"code": "a"}), on="a")
        .join(tokens.select(b="code", token="token"), on=["b", "token"])
        .group_by("key")
        .agg(pl.col("weight").sum().alias("common"))
    )
    weight = coded.token_weight[column]
    scored = distinct.join(common, on="key", how="left").with_columns(pl.col("common").fill_null(0.0))
    total = weight[scored["a"].to_numpy()] + weight[scored["b"].to_numpy()]
    lookup = pl.DataFrame(
        {
            "key": scored["key"],
            "score": np.where(total > 0, 2 * scored["common"].to_numpy() / np.maximum(total, 1e-12), 0.0),
        }
    )
    result[mask] = keyed.join(lookup, on="key", how="left", maintain_order="left")["score"].to_numpy()
    return result


def _postcode_parts(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per postcode (lowercase, no spaces): its district and its area.

    UK-style codes (outward code then digit and two letters: sw1a1aa) -> district sw1a, area sw;
    other codes -> district all but the last two characters, area the leading letters or first two digits.
    """
    series = pl.Series(words, dtype=pl.String)
    uk = series.str.contains(r"^[a-z]{1,2}[0-9][0-9a-z]?[0-9][a-z]{2}$")
    district = pl.select(
        pl.when(uk)
        .then(series.str.slice(0, series.str.len_chars() - 3))
        .otherwise(series.str.slice(0, pl.max_horizontal(series.str.len_chars() - 2, 1)))
    ).to_series()
    letters = series.str.extract(r"^([a-z]+)", 1)
    area = pl.select(pl.coalesce(letters, series.str.slice(0, 2))).to_series()
    return district.to_numpy().astype(object), area.to_numpy().astype(object)


def comparison_levels(
    prepared: pl.DataFrame,
    pairs: pl.DataFrame,
    coded: CodedRecords | None = None,
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
) -> dict[str, np.ndarray]:
    """Agreement level per comparison and pair: levels - 1 is exact, 0 disagrees, -1 missing.

    Values are compared by their codes (see CodedRecords; pass `coded` to reuse one coding across
    calls) and string similarity is computed once per distinct pair of values, not once per pair of records.
    """
    coded = coded or code_records(prepared, comparisons)
    if pairs.height > PAIR_CHUNK:  # in slices: the working arrays stay small, the levels are int8
        parts = [
            comparison_levels(prepared, pairs.slice(start, PAIR_CHUNK), coded, comparisons)
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
    for item in comparisons:
        kind, top = item.kind, item.levels - 1
        if kind in NUMERIC_KINDS:
            values = coded.numbers[item.column]
            a, b = values[left], values[right]
            missing = np.isnan(a) | np.isnan(b)
            difference = np.abs(a - b)
            if kind == "date":
                within = [difference <= d for d in item.windows_days]
            else:
                scale = np.maximum(np.abs(a), np.abs(b))
                within = [difference <= t + 1e-9 for t in item.abs_tolerance]
                within += [difference <= t * scale + 1e-9 for t in item.rel_tolerance]
            level = np.select([difference == 0, *within], list(range(top, 0, -1)), 0)
            levels[item.name] = np.where(missing, -1, level).astype(np.int8)
            continue
        a, b = codes(item.column)
        missing = (a < 0) | (b < 0)
        exact = a == b
        if kind in SIMILARITY_KINDS:
            # Han script: one character more or less is another name, not a typo
            han = (han_word[np.maximum(a, 0)] & (a >= 0)) | (han_word[np.maximum(b, 0)] & (b >= 0))
            # only similarities from the lowest level's threshold up are used (a hair below it, so
            # that rounding to float32 lands every pair on the same level as without the cutoff)
            thresholds = item.thresholds
            sim = _pair_similarity(words, a, b, jaro, 0.0, thresholds[-1] - 1e-6, skip=han)
            level = np.select([exact, *(sim >= t for t in thresholds)], list(range(top, 0, -1)), 0)
        elif kind == "text":
            overlap = _token_overlap(coded, item.column, a, b)
            level = np.select([exact, *(overlap >= t for t in item.thresholds)], list(range(top, 0, -1)), 0)
        elif kind in ("email", "code"):
            level = np.select([exact, _pair_similarity(words, a, b, lev, 99, 1) <= 1], [2, 1], 0)
        elif kind == "birth_date":
            edits = _pair_similarity(words, a, b, distance.DamerauLevenshtein.distance, 99, 1)
            swapped = (codes("dob_swapped")[0] == b) & (b >= 0) if item.column == "dob" else exact & False
            values = coded.numbers[item.column]
            apart = np.abs(values[left] - values[right])  # days (NaN: never within)
            level = np.select([exact, (edits <= 1) | swapped, apart <= 366, apart <= 3653], [4, 3, 2, 1], 0)
        elif kind == "postcode":
            edits = _pair_similarity(words, a, b, lev, 99, 1)
            district, area = _postcode_parts(words)
            sa, sb = np.maximum(a, 0), np.maximum(b, 0)
            level = np.select(
                [exact, edits <= 1, district[sa] == district[sb], area[sa] == area[sb]], [4, 3, 2, 1], 0
            )
        else:
            level = exact.astype(np.int64)
        levels[item.name] = np.where(missing, -1, level).astype(np.int8)
    # given and family name written the other way round: both count as agreeing exactly
    names = {c.name: c for c in comparisons}
    if all(n in names and names[n].kind == "name" for n in ("given", "family")):
        ga, gb = codes(names["given"].column)
        fa, fb = codes(names["family"].column)
        swapped = (ga == fb) & (fa == gb) & (ga >= 0) & (fa >= 0) & (ga != fa)
        levels["given"] = np.where(swapped, names["given"].levels - 1, levels["given"]).astype(np.int8)
        levels["family"] = np.where(swapped, names["family"].levels - 1, levels["family"]).astype(np.int8)
    return levels
