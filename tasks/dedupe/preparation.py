"""Comparison-ready fields of customer records (the first step of comparing, see tasks.dedupe.comparisons)."""

from collections.abc import Callable, Sequence

import polars as pl
from pypinyin import lazy_pinyin

from tasks.dedupe.comparisons import DEFAULT_COMPARISONS, MATCH_FIELDS, Comparison
from tasks.dedupe.normalize import ADDRESS_WORDS, LATIN_LETTERS, simplified_converter
from tasks.shared.contracts import NUMBER_KINDS, NUMBER_LIMIT


def _han_converted(values: pl.Series, convert: Callable[[str], str]) -> pl.Series:
    """values with convert applied to those written with Han characters, once per distinct value."""
    distinct = values.drop_nulls().unique()
    cjk = distinct.filter(distinct.str.contains(r"\p{Han}")).to_list()
    if not cjk:
        return values
    return values.replace(dict(zip(cjk, [convert(v) for v in cjk], strict=True)))


def _pinyin(values: pl.Series) -> pl.Series:
    """A name part in pinyin letters (张 -> zhang, 伟明 -> weiming; Latin letters as they are)."""
    return _han_converted(values, lambda v: "".join(lazy_pinyin(v)))


def name_pinyin(prepared: pl.DataFrame) -> pl.Series:
    """The name as pinyin, to meet the same name written in Latin letters: family name and given name
    (each as one word) sorted and joined, so 张伟明, Weiming Zhang and Zhang Weiming all give weimingzhang."""
    family, given = _pinyin(prepared["family"]), _pinyin(prepared["given"])
    parts = pl.DataFrame({"family": family, "given": given})
    keyed = parts.select(
        pl.when(pl.col("family").is_not_null() & pl.col("given").is_not_null())
        .then(pl.concat_list("family", "given").list.sort().list.join(""))
        .alias("pinyin")
    )
    return keyed["pinyin"]


def _simplified(values: pl.Series) -> pl.Series:
    """Traditional Chinese characters as simplified (converted once per distinct value)."""
    return _han_converted(values, simplified_converter().convert)


# A sex as the matcher compares it, read as sql/core/identity_conflicts.sql reads it: any other value (unknown, U, X, a
# code of a source's own) is no evidence, never a difference (a person conflict needs the sexes to differ).
SEXES = {"m": "m", "male": "m", "男": "m", "f": "f", "female": "f", "女": "f"}


def _text(column: str) -> pl.Expr:
    """Trimmed, lowercased, unaccented text (ø, ł, æ, ß … as normalize.LATIN_LETTERS spells them) with
    full-width forms folded; null when empty."""
    cleaned = (
        pl.col(column)
        .cast(pl.String)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_many(LATIN_LETTERS)
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


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")  # text dates read without a config format


def decimal_mark(values: pl.Series) -> str:
    """The decimal separator of a column of text amounts: a comma where more values end in ,d or ,dd than
    in .d or .dd, else a point (decided once per column, over all its records)."""
    text = _amount_text(values)
    comma = int(text.str.contains(r",\d{1,2}$").sum())
    point = int(text.str.contains(r"\.\d{1,2}$").sum())
    return "," if comma > point else "."


def _amount_text(values: pl.Series) -> pl.Series:
    """Text amounts without currency marks and spaces, full-width digits folded."""
    return values.str.normalize("NFKC").str.replace_all(r"[\s¥$€£]|元|块|RMB|CNY|USD|EUR|GBP", "")


def decimal_marks(records: pl.DataFrame, comparisons: Sequence[Comparison]) -> dict[str, str]:
    """Per numeric comparison of a text attribute, its column's decimal separator (decimal_mark): a fitted
    matcher keeps them, so that records prepared later read their amounts as the fit did."""
    marks = {}
    for item in comparisons:
        if item.kind != "numeric" or not item.column.startswith("c_"):
            continue
        source = item.attribute if item.attribute in records.columns else _RECORD_FIELDS.get(item.attribute)
        if source in records.columns and records[source].dtype == pl.String:
            marks[item.name] = decimal_mark(records[source])
    return marks


def _number_column(records: pl.DataFrame, attribute: str, kind: str, decimal: str | None = None) -> pl.Series:
    """An attribute as numbers for a date (days since 1970-01-01) or numeric comparison; null where unreadable
    (see unreadable_values). Text dates are read in DATE_FORMATS (year first: 03/01 is never guessed; map
    another layout with strptime in match_columns); text amounts without currency marks, spaces and
    thousands separators (full-width digits folded), the decimal separator decided once per column
    (1,234.50 is 1234.5 in a column written so, 1.234,50 in a column of decimal commas; 12,5 in the first
    is unreadable, never 125; decimal: the separator decided already, see decimal_marks); infinities and
    values beyond NUMBER_LIMIT are unreadable."""
    values = records[attribute]
    if kind == "date":
        if values.dtype == pl.String:
            text = values.str.strip_chars().str.slice(0, 10)
            values = pl.select(
                pl.coalesce(text.str.to_date(f, strict=False) for f in DATE_FORMATS)
            ).to_series()
        elif values.dtype != pl.Date:
            values = values.cast(pl.Date, strict=False)
        return values.cast(pl.Int32, strict=False).cast(pl.Float64)
    if values.dtype == pl.String:
        text = _amount_text(values)
        # one decimal separator per column; the other mark may only group thousands (12,5 in a column of
        # decimal points is no number)
        decimal = decimal or decimal_mark(values)
        group = "." if decimal == "," else ","
        well_formed = text.str.contains(rf"^[+-]?(\d+|\d{{1,3}}(\{group}\d{{3}})+)(\{decimal}\d+)?$")
        plain = text.str.replace_all(rf"\{group}", "").str.replace(rf"\{decimal}", ".")
        values = pl.select(pl.when(well_formed).then(plain)).to_series()
    numbers = values.cast(pl.Float64, strict=False)
    # like staged numbers, an infinity or a value beyond NUMBER_LIMIT is unreadable, not evidence
    return pl.select(pl.when(numbers.is_finite() & (numbers.abs() <= NUMBER_LIMIT)).then(numbers)).to_series()


def unreadable_flags(
    records: pl.DataFrame, prepared: pl.DataFrame, comparisons: Sequence[Comparison]
) -> pl.DataFrame:
    """Per date, birth date or numeric comparison of a match column, whether each record's value could not
    be read (a value there, none prepared): one boolean column per such comparison, in record order."""
    flags = {}
    for item in comparisons:
        if (
            item.kind in (*NUMBER_KINDS, "birth_date")
            and not item.canonical
            and item.attribute in records.columns
        ):
            given = records[item.attribute].is_not_null()
            if records[item.attribute].dtype == pl.String:
                given &= records[item.attribute].str.strip_chars() != ""
            flags[item.name] = (given & prepared[item.column].is_null()).fill_null(False)
    return pl.DataFrame(flags)


def unreadable_values(
    records: pl.DataFrame, prepared: pl.DataFrame, comparisons: Sequence[Comparison]
) -> dict[str, int]:
    """Per date, birth date or numeric comparison of a match column, the records whose value could not be
    read (unreadable_flags): they count as missing, and the run summary says how many."""
    flags = unreadable_flags(records, prepared, comparisons)
    return {name: int(flags[name].sum()) for name in flags.columns if int(flags[name].sum())}


def _attribute_column(records: pl.DataFrame, item: Comparison, decimals: dict[str, str]) -> pl.Expr:
    """The prepared values of a match column (or a canonical field compared by another kind than built in)."""
    source = item.attribute if item.attribute in records.columns else _RECORD_FIELDS.get(item.attribute)
    if item.kind in NUMBER_KINDS:
        return pl.lit(_number_column(records, source, item.kind, decimals.get(item.name))).alias(item.column)
    if item.kind == "name":
        return _name(source).alias(item.column)
    if item.kind == "birth_date":  # a date, or text in a year-first layout (see _number_column)
        days = _number_column(records, source, "date").cast(pl.Int32)
        return pl.lit(days.cast(pl.Date).dt.strftime("%Y%m%d")).alias(item.column)
    text = _text(source)
    if item.kind in ("postcode", "code"):
        text = text.str.replace_all(r"[\s\-]", "")
    return pl.when(text == "").then(None).otherwise(text).alias(item.column)


# A generational suffix ends a name without being part of it: Smith Jr., John Smith III.
SUFFIX = r"(?:,\s*|\s+)(?:jr|sr|ii|iii|iv)\.?(\s*,|$)"  # before the comma too: Smith Jr, John


def _full_name(full: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """A full name given names first, and the family and first given name when a comma says which is which: a
    register's "van der Berg, Anna M." reads "anna m. van der berg", family name "van der berg" (all before the one
    comma), given name "anna"; 欧阳, 娜娜 reads 欧阳娜娜, 欧阳 and 娜娜. Without a generational suffix."""
    bare = full.str.replace(SUFFIX, "${1}")
    parts = bare.str.extract_groups(r"^(?<family>[^,]+?)\s*,\s*(?<given>[^,]+)$")
    family, given = parts.struct.field("family"), parts.struct.field("given")
    han = family.str.contains(r"^\p{Han}+$") & given.str.contains(r"^\p{Han}+$")  # 欧阳, 娜娜 reads 欧阳娜娜
    reordered = (
        pl.when(han).then(pl.concat_str(family, given)).otherwise(pl.concat_str(given, pl.lit(" "), family))
    )
    ordered = pl.when(family.is_not_null()).then(reordered).otherwise(bare)
    return ordered, family, given.str.extract(r"^(\S+)", 1)


# Canonical customer fields as named in the matcher's records (sql/core/match_records.sql).
_RECORD_FIELDS = {"email": "email_norm", "phone": "phone_norm"}


def prepare_records(
    records: pl.DataFrame,
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
    decimals: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Comparison-ready fields of customer records, one row per node (PREPARED_COLUMNS, blocking helpers,
    and a c_<name> column per comparison of a match column or of numbers).

    records: node plus any of MATCH_FIELDS (missing columns count as null) and the match columns.
    A full name without parts is split: Han script into surname (first character) and given name,
    Latin script into first and last word (of two letters or more), "Family, Given" in that order.
    decimals: per numeric comparison of text, the decimal separator (decimal_marks; default: decided from these
    records). With them, each row is prepared from its own
    values alone, so preparing a subset of the records gives the same rows.
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
        and c.kind not in NUMBER_KINDS
    }
    for column in ("full_name", "given_name", "family_name", "city", "province", "address", *text_attributes):
        frame = frame.with_columns(_simplified(frame[column].cast(pl.String)).alias(column))
    # the full name read once into columns: every expression below reads them, not the chain that makes them
    ordered, family, given = _full_name(_text("full_name"))
    frame = frame.with_columns(_full=ordered, _full_family=family, _full_given=given)
    full, comma_family, comma_given = pl.col("_full"), pl.col("_full_family"), pl.col("_full_given")
    han = full.str.contains(r"^\p{Han}+$")
    first_word = full.str.extract(r"^(\S+)\s", 1)
    # the last word of two letters or more: a middle initial after it (Elana Kennison M.) is no family name
    last_word = full.str.extract(r"\s(\S{2,})(?:\s+\p{L}\.?)*$", 1)
    frame = frame.with_columns(
        given=pl.coalesce(
            _name("given_name"),
            comma_given,
            pl.when(han).then(full.str.slice(1)).otherwise(first_word),
            pl.when(~han & first_word.is_null()).then(full),
        ),
        family=pl.coalesce(
            _name("family_name"), comma_family, pl.when(han).then(full.str.slice(0, 1)).otherwise(last_word)
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
        # street words in one spelling, as address_norm has them (1326 Melrose Road = 1326 Melrose Rd.)
        _text("address")
        .str.replace_all(r"[^\p{L}\p{N} ]", "")
        .str.split(" ")
        .list.eval(pl.element().replace(ADDRESS_WORDS))
        .list.join(" ")
        .alias("address"),
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
        _text("gender").replace_strict(SEXES, default=None).alias("gender"),
        *(_attribute_column(frame, c, decimals or {}) for c in extra),
    ).with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("full", "address", "city", "postcode", "province", "country", "national_id", "gender")
    )
    buckets = [
        (pl.col(c.column) / c.bucket_width + shift).floor().cast(pl.Int64).alias(f"{c.column}__{grid}")
        for c in extra
        if c.bucket_width
        for grid, shift in ((1, 0.0), (2, 0.5))
    ]
    return prepared.with_columns(
        name_pinyin(prepared),
        *buckets,
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


def text_grams(texts: pl.DataFrame) -> pl.DataFrame:
    """code, token: the character trigrams of each word of each text (code, value), a word padded with a
    space each side, so that 'wetherspoon' and 'Wetherspoons', 'ref88123' and '88123' share most of theirs."""
    words = texts.select("code", word=text_tokens(pl.col("value"))).explode("word").drop_nulls()
    padded = words.with_columns(word=pl.concat_str(pl.lit(" "), "word", pl.lit(" ")))
    starts = padded.with_columns(start=pl.int_ranges(0, pl.col("word").str.len_chars() - 2)).explode("start")
    return starts.select("code", token=pl.col("word").str.slice(pl.col("start"), 3)).unique()
