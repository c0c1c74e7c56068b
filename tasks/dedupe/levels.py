"""Agreement levels of record pairs (the last steps of comparing, see tasks.dedupe.comparisons)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl
from rapidfuzz import distance, process

from tasks.dedupe.comparisons import DEFAULT_COMPARISONS, SIMILARITY_KINDS, Comparison
from tasks.dedupe.preparation import text_grams
from tasks.shared.contracts import NUMBER_KINDS

PAIR_CHUNK = 2_500_000  # candidate pairs compared or scored at a time (bounds the working memory)
# Location attributes, finest first: an address that agrees says the postcode and town agree, a postcode
# that agrees says the town does (nest_locations).
NESTED_LOCATIONS = ("address", "postcode", "city")
AGREEING_SIMILARITY = 0.9  # a similarity kind's levels at or above it agree (an address with a typo)
# the name comparisons read together: written the other way round, or one in Han characters and the other in
# Latin letters with the same pinyin, the given name agrees (comparison_levels)
NAME_PAIR = ("given", "family")
IMPLIED = -2  # the level of a location comparison that a finer one agreeing stands for (no evidence, as -1)
INITIAL = -3  # the level of an initial and a name it begins, J and John (no evidence either way, as -1)
Nesting = Literal["scoring", "training"]  # how nest_locations reads a pair's location levels


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
    # per word: its first character (a number per character) and whether it is that character alone (an initial)
    initial: tuple[np.ndarray, np.ndarray]
    codes: dict[str, np.ndarray]  # prepared column -> code of each row's value (-1: missing)
    numbers: dict[str, np.ndarray]  # prepared column of a date or numeric comparison -> values (NaN: missing)
    tokens: dict[str, pl.DataFrame]  # text column -> code, token (a trigram), weight (rare ones weigh more)
    token_weight: dict[str, np.ndarray]  # text column -> per word code, the weight of all its tokens
    # per word code, its district and area as a postcode (only when a comparison is of the postcode kind)
    postcode_parts: tuple[np.ndarray, np.ndarray] | None = None
    # text column -> (token, records: how many records have it) and the records with a text, the weights'
    # document frequencies (what a fitted matcher keeps, see token_records)
    token_records: dict[str, tuple[pl.DataFrame, int]] = field(default_factory=dict)


def node_positions(prepared: pl.DataFrame) -> np.ndarray:
    """node -> row of prepared (-1: not a record), to look up a pair's records by their nodes."""
    position = np.full(int(prepared["node"].max()) + 1 if prepared.height else 1, -1, dtype=np.int64)
    position[prepared["node"].to_numpy()] = np.arange(prepared.height)
    return position


def code_records(
    prepared: pl.DataFrame,
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
    token_records: dict[str, tuple[pl.DataFrame, int]] | None = None,
) -> CodedRecords:
    """Code every compared column of prepared against one vocabulary (also across columns: given
    against family, birth date against its day-month swap); numbers as they are; text tokens with weights.

    token_records: per text column, the document frequencies to weigh its tokens by (a fitted matcher's,
    see CodedRecords.token_records; a token they do not know counts as in one record); default: those of
    prepared's records. With them, coding a subset of the records compares its pairs as coding all would.
    """
    numeric = sorted({c.column for c in comparisons if c.kind in NUMBER_KINDS})
    # birth dates are also compared by days apart (written yyyymmdd)
    days = sorted({c.column for c in comparisons if c.kind == "birth_date"})
    columns = sorted(
        {c.column for c in comparisons if c.kind not in NUMBER_KINDS} | {"dob_swapped", "pinyin"}
    )
    vocabulary = pl.concat([prepared[c].cast(pl.String).drop_nulls() for c in columns]).unique().sort()
    index = pl.DataFrame({"value": vocabulary, "code": np.arange(vocabulary.len(), dtype=np.int32)})
    codes = {
        column: prepared.select(value=pl.col(column).cast(pl.String))
        .join(index, on="value", how="left", maintain_order="left")["code"]
        .fill_null(-1)
        .to_numpy()
        for column in columns
    }
    tokens, token_weight, counted = {}, {}, {}
    for column in sorted({c.column for c in comparisons if c.kind == "text"}):
        # document frequency of each token among the records; weight log(records / frequency)
        per_record = pl.DataFrame({"code": codes[column]}).filter(pl.col("code") >= 0)
        words = index.filter(pl.col("code").is_in(per_record["code"].unique().implode()))
        coded = text_grams(words)
        if token_records and column in token_records:
            frequency, total = token_records[column]
            weighted = coded.join(frequency, on="token", how="left").with_columns(
                pl.col("records").fill_null(1)
            )
        else:
            frequency = per_record.join(coded, on="code").group_by("token").len().rename({"len": "records"})
            total = max(per_record.height, 1)
            weighted = coded.join(frequency, on="token")
        counted[column] = (frequency.select("token", pl.col("records").cast(pl.Int64)), total)
        weighted = weighted.with_columns(weight=(pl.lit(total + 1.0) / pl.col("records")).log()).sort(
            "code", "token"
        )  # summed in one order: coding a subset weighs a text as coding all does
        tokens[column] = weighted.select("code", "token", "weight")
        sums = weighted.group_by("code").agg(pl.col("weight").sum())
        total_weight = np.zeros(vocabulary.len(), dtype=np.float64)
        total_weight[sums["code"].to_numpy()] = sums["weight"].to_numpy()
        token_weight[column] = total_weight
    words = vocabulary.to_numpy().astype(object)
    return CodedRecords(
        position=node_positions(prepared),
        words=words,
        han=vocabulary.str.contains(r"\p{Han}").to_numpy(),
        initial=(
            vocabulary.str.slice(0, 1).rank("dense").cast(pl.Int32).to_numpy(),
            (vocabulary.str.len_chars() == 1).to_numpy(),
        ),
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
        postcode_parts=_postcode_parts(words) if any(c.kind == "postcode" for c in comparisons) else None,
        token_records=counted,
    )


def _token_overlap(coded: CodedRecords, column: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weighted overlap of two texts' trigrams per pair of value codes: the weight they have in common over
    the smaller of the two texts' weights (a short ledger text inside a long bank memo agrees fully);
    0 where either is missing. A trigram weighs log((records + 1) / records with it)."""
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
    total = 2 * np.minimum(weight[scored["a"].to_numpy()], weight[scored["b"].to_numpy()])
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
    nesting: Nesting | None = "scoring",
) -> dict[str, np.ndarray]:
    """Agreement level per comparison and pair: levels - 1 is exact, 0 disagrees, -1 missing, -2 implied by a
    finer location that agrees (nest_locations, as scoring or training reads them; nesting None: as they are).

    Values are compared by their codes (see CodedRecords; pass `coded` to reuse one coding across
    calls) and string similarity is computed once per distinct pair of values, not once per pair of records.
    """
    coded = coded or code_records(prepared, comparisons)
    if pairs.height > PAIR_CHUNK:  # in slices: the working arrays stay small, the levels are int8
        parts = [
            comparison_levels(prepared, pairs.slice(start, PAIR_CHUNK), coded, comparisons, nesting)
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
        if kind in NUMBER_KINDS:
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
            # a Han name: one character more or less is another name, not a typo (names only: a Han
            # address or occupation is compared by its similarity like any other text)
            han = (han_word[np.maximum(a, 0)] & (a >= 0)) | (han_word[np.maximum(b, 0)] & (b >= 0))
            han &= kind == "name"
            # only similarities from the lowest level's threshold up are used (a hair below it, so
            # that rounding to float32 lands every pair on the same level as without the cutoff)
            thresholds = item.thresholds
            sim = _pair_similarity(words, a, b, jaro, 0.0, thresholds[-1] - 1e-6, skip=han)
            level = np.select([exact, *(sim >= t for t in thresholds)], list(range(top, 0, -1)), 0)
            if kind == "name":
                # an initial and a name it begins (J and John, a register's middle initial): no evidence either
                # way, not two different names
                first, alone = coded.initial
                sa, sb = np.maximum(a, 0), np.maximum(b, 0)
                initial = (alone[sa] != alone[sb]) & (first[sa] == first[sb]) & ~han
                level = np.where(initial & (level == 0), INITIAL, level)
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
            district, area = coded.postcode_parts
            sa, sb = np.maximum(a, 0), np.maximum(b, 0)
            level = np.select(
                [exact, edits <= 1, district[sa] == district[sb], area[sa] == area[sb]], [4, 3, 2, 1], 0
            )
        else:
            level = exact.astype(np.int64)
        levels[item.name] = np.where(missing, -1, level).astype(np.int8)
    # given and family name written the other way round: both count as agreeing exactly
    names = {c.name: c for c in comparisons}
    if all(n in names and names[n].kind == "name" for n in NAME_PAIR):
        ga, gb = codes(names["given"].column)
        fa, fb = codes(names["family"].column)
        swapped = (ga == fb) & (fa == gb) & (ga >= 0) & (fa >= 0) & (ga != fa)
        levels["given"] = np.where(swapped, names["given"].levels - 1, levels["given"]).astype(np.int8)
        levels["family"] = np.where(swapped, names["family"].levels - 1, levels["family"]).astype(np.int8)
        # one name in Han characters, the other in Latin letters (张伟, Wei Zhang) with the same pinyin:
        # both agree at the loosest similar level (homophones share a pinyin too: 张伟 and 章伟 are two names)
        pa, pb = codes("pinyin")
        han_a = han_word[np.maximum(ga, 0)] & (ga >= 0) | han_word[np.maximum(fa, 0)] & (fa >= 0)
        han_b = han_word[np.maximum(gb, 0)] & (gb >= 0) | han_word[np.maximum(fb, 0)] & (fb >= 0)
        latin = ((ga >= 0) | (fa >= 0)) & ((gb >= 0) | (fb >= 0))
        crossed = (pa == pb) & (pa >= 0) & (han_a != han_b) & latin
        for name in ("given", "family"):
            levels[name] = np.where(crossed, np.maximum(levels[name], 1), levels[name]).astype(np.int8)
    return levels if nesting is None else nest_locations(levels, comparisons, nesting)


def agreeing_level(item: Comparison) -> int:
    """The lowest level at which a location comparison agrees: exact, or a similarity kind's levels whose
    threshold is at least AGREEING_SIMILARITY (a typo); other kinds exact only (postcodes one edit apart are
    other places)."""
    close = sum(t >= AGREEING_SIMILARITY for t in item.thresholds) if item.kind in SIMILARITY_KINDS else 0
    return item.levels - 1 - close


def finer_locations(comparisons: Sequence[Comparison]) -> dict[str, list[Comparison]]:
    """Per location comparison, the finer location comparisons that stand for it where they agree."""
    rank = {attribute: position for position, attribute in enumerate(NESTED_LOCATIONS)}
    located = [c for c in comparisons if c.attribute in rank]
    finer = {c.name: [f for f in located if rank[f.attribute] < rank[c.attribute]] for c in located}
    return {name: items for name, items in finer.items() if items}


def nest_locations(
    levels: dict[str, np.ndarray], comparisons: Sequence[Comparison], nesting: Nesting = "scoring"
) -> dict[str, np.ndarray]:
    """Where a finer location comparison agrees (agreeing_level), a coarser one is no evidence of its own.

    Fellegi-Sunter adds the comparisons' weights as if independent; an address, its postcode and its town
    are not: agreeing on the address, two records agree on the other two anyway. Counted three times, a
    shared home outweighed a different first name, sex and birth date (a household's members scored as one
    person), and a mover lost three times. Where the finer ones disagree or are missing, the coarser ones
    count as before (a move within the town).
    "training": the coarser level is -1 wherever a finer one agrees, so that its m and u are those of the pairs
    whose finer locations do not agree (the u pairs, the labels and EM read these). "scoring": only a coarser
    level that agrees too is IMPLIED (no evidence, like -1); one that differs still counts (two homes at
    "12 high street" in two towns are two homes).
    """
    nested = dict(levels)  # the levels given stay as they are (match_records trains and scores on one set)
    for name, finer in finer_locations(comparisons).items():
        agrees = np.zeros(len(levels[name]), dtype=bool)
        for item in finer:
            agrees |= levels[item.name] >= agreeing_level(item)
        if nesting == "training":
            nested[name] = np.where(agrees, -1, levels[name]).astype(np.int8)
        else:
            nested[name] = np.where(agrees & (levels[name] > 0), IMPLIED, levels[name]).astype(np.int8)
    return nested
