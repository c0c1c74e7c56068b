"""Normalizers for match keys: pure functions, with vectorized versions for whole columns.

A normalizer returns None for a value that must never be used to match records: empty,
invalid, or a known placeholder (13800000000, test@test.com, 未知, N/A ...).
"""

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import opencc
import phonenumbers
import polars as pl
from pypinyin import lazy_pinyin

from tasks.shared.contracts import PLACEHOLDER_TEXT

PLACEHOLDER_EMAILS = frozenset(
    {
        "test@test.com",
        "test@example.com",
        "a@a.com",
        "noemail@noemail.com",
        "none@none.com",
        "null@null.com",
        "123@qq.com",
        "example@example.com",
        "test@qq.com",
        "admin@admin.com",
        "xxx@xxx.com",
        "abc@abc.com",
        "email@email.com",
        "user@example.com",
    }
)
# Numbers people type when a form insists on a phone: well-known fillers,
# repeated digits and ascending runs.
PLACEHOLDER_PHONES = frozenset(
    {"+8613800000000", "+8613888888888", "+8613900000000", "+8613912345678", "+8618888888888"}
)
# Addresses a system sends from: never a person.
NO_REPLY_PREFIXES = ("noreply@", "no-reply@", "no_reply@", "donotreply@", "do-not-reply@", "mailer-daemon@")

# An "extension" this long is a second phone number (no exchange has extensions of 7 digits)
MIN_PHONE_DIGITS = 7


def without_format_characters(text: str) -> str:
    """text without Unicode's invisible format characters (category Cf: U+200B zero-width space, U+FEFF byte
    order mark, U+2060 word joiner, U+00AD soft hyphen …), which a value copied from a web page or a document
    carries unseen; polars' `\\p{Cf}` removes the same."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


# 。, which NFKC keeps: a Chinese input method types it for the dot of an address
IDEOGRAPHIC_FULL_STOP = "\u3002"
EMAIL_PATTERN = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$")
# Chinese mobile numbers in any common spelling: +86 138-0013-8000, 0086 13800138000, 8613800138000.
CN_MOBILE_FAST_PATH = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
# A Chinese extension after the number (转 8, 分机 8): dropped before parsing, as the library drops "ext. 8" (E.164
# has no extension).
CN_EXTENSION = re.compile(r"(?:转|分机|分機)\d+$")


def normalize_email(value: str | None, extra_placeholders: frozenset[str] = frozenset()) -> str | None:
    """Trimmed, lowercased email with full-width forms folded (ＡＢ＠ｑｑ．ｃｏｍ, ab@qq。com: a Chinese input
    method's spelling of ab@qq.com), or None when invalid or a placeholder."""
    if value is None:
        return None
    folded = without_format_characters(unicodedata.normalize("NFKC", value)).replace(
        IDEOGRAPHIC_FULL_STOP, "."
    )
    email = re.sub(r"\s", "", folded).lower()
    if email in PLACEHOLDER_TEXT or not EMAIL_PATTERN.match(email):
        return None
    if email in PLACEHOLDER_EMAILS or email in extra_placeholders or email.startswith(NO_REPLY_PREFIXES):
        return None
    return email


@lru_cache(maxsize=65536)
def _parse_phone(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    # The library reads letters as a keypad's (vanity numbers: 1-800-FLOWERS), so a typo such as 198abcd0983 or
    # 138OO138OOO would become another, valid number (+8619822230983): a number whose digits are not all in the
    # value as written is no phone. Labels, extensions and other text around the digits are left as the library
    # reads them.
    if str(number.national_number) not in phonenumbers.normalize_digits_only(value):
        return None
    # The library reads what follows a ';' as an extension: "13800138000;13900139000" is two numbers, not one
    # with extension 13900139000. A field of two numbers is unusable (counted as such), as with '/' or ',':
    # keeping the first would drop the second without a word, and either may be a relative's.
    if number.extension and len(number.extension) >= MIN_PHONE_DIGITS:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(
    value: str | None, region: str = "CN", extra_placeholders: frozenset[str] = frozenset()
) -> str | None:
    """Phone in E.164 (+8613800138000), or None when invalid or a placeholder."""
    if value is None:
        return None
    compact = re.sub(r"[\s\-().]", "", without_format_characters(value).strip())
    if compact.lower() in PLACEHOLDER_TEXT:
        return None
    fast = CN_MOBILE_FAST_PATH.match(compact) if region == "CN" else None
    e164 = f"+86{fast.group(1)}" if fast else _parse_phone(CN_EXTENSION.sub("", compact), region)
    if e164 is None or e164 in PLACEHOLDER_PHONES or e164 in extra_placeholders:
        return None
    if len(set(e164[-8:])) == 1:  # 13300000000-style fillers
        return None
    return e164


def normalize_emails(values: pl.Series, extra_placeholders: frozenset[str] = frozenset()) -> pl.Series:
    """normalize_email over a column, vectorized."""
    # \x1c-\x1f: Python's \s matches them (normalize_email), Rust's does not
    folded = values.str.normalize("NFKC").str.replace_all(r"[\p{Cf}\s\x1c-\x1f]", "")
    email = folded.str.replace_all(IDEOGRAPHIC_FULL_STOP, ".", literal=True).str.to_lowercase()
    bad = (
        email.is_in(list(PLACEHOLDER_TEXT | PLACEHOLDER_EMAILS | extra_placeholders))
        | ~email.str.contains(EMAIL_PATTERN.pattern)
        | pl.any_horizontal([email.str.starts_with(p) for p in NO_REPLY_PREFIXES])
    ).fill_null(True)
    return pl.select(pl.when(bad).then(None).otherwise(email)).to_series().rename(values.name)


def normalize_phones(
    values: pl.Series, region: str = "CN", extra_placeholders: frozenset[str] = frozenset()
) -> pl.Series:
    """normalize_phone over a column: a vectorized fast path for Chinese mobiles, the library for the rest."""
    frame = pl.DataFrame({"raw": values}).with_columns(
        compact=pl.col("raw")
        .str.replace_all(r"\p{Cf}", "")
        .str.strip_chars()
        .str.replace_all(r"[\s\-().]", "")
    )
    if region == "CN":
        frame = frame.with_columns(
            fast=pl.concat_str(pl.lit("+86"), pl.col("compact").str.extract(CN_MOBILE_FAST_PATH.pattern, 1))
        )
    else:
        frame = frame.with_columns(fast=pl.lit(None, dtype=pl.String))
    slow = frame.filter(pl.col("fast").is_null() & pl.col("raw").is_not_null())["raw"].unique()
    slow_map = pl.DataFrame(
        {"raw": slow, "slow": [normalize_phone(v, region, extra_placeholders) for v in slow]},
        schema={"raw": pl.String, "slow": pl.String},
    )
    frame = frame.join(slow_map, on="raw", how="left", maintain_order="left")
    e164 = pl.coalesce("fast", "slow")
    last = e164.str.slice(-1)
    repeated = e164.str.slice(-8) == pl.concat_str([last] * 8)  # 13300000000-style fillers
    placeholder = e164.is_in(list(PLACEHOLDER_PHONES | extra_placeholders))
    result = frame.select(pl.when(repeated | placeholder).then(None).otherwise(e164).alias(values.name))
    return result.to_series()


# Device ids that mean "unknown": all zeros (a blank IDFA/IMEI), or filler text.
DEVICE_FILLER = r"^[0\-:]+$"


def normalize_device(value: str | None, extra_placeholders: frozenset[str] = frozenset()) -> str | None:
    """Trimmed device id, or None when empty, all zeros, or a placeholder."""
    if value is None:
        return None
    device = value.strip()
    lowered = device.lower()
    if lowered in PLACEHOLDER_TEXT or lowered in extra_placeholders or re.match(DEVICE_FILLER, device):
        return None
    return device


def normalize_devices(values: pl.Series, extra_placeholders: frozenset[str] = frozenset()) -> pl.Series:
    """normalize_device over a column, vectorized."""
    device = values.str.strip_chars()
    lowered = device.str.to_lowercase()
    bad = (
        lowered.is_in(list(PLACEHOLDER_TEXT | extra_placeholders)) | device.str.contains(DEVICE_FILLER)
    ).fill_null(True)
    return pl.select(pl.when(bad).then(None).otherwise(device)).to_series().rename(values.name)


# ---------------------------------------------------------------------------------------------------------
# Email provider rules (only where configured)
# ---------------------------------------------------------------------------------------------------------

# provider -> (its domains, the canonical domain, whether dots in the local part are ignored)
EMAIL_PROVIDERS: dict[str, tuple[frozenset[str], str, bool]] = {
    "gmail": (frozenset({"gmail.com", "googlemail.com"}), "gmail.com", True),
    "outlook": (frozenset({"outlook.com", "hotmail.com", "live.com", "msn.com"}), "", False),
    "icloud": (frozenset({"icloud.com", "me.com", "mac.com"}), "", False),
}


def apply_email_provider_rules(email: str | None, providers: tuple[str, ...]) -> str | None:
    """A normalized email with the configured providers' aliasing undone: plus-tags dropped (all),
    dots in the local part dropped and googlemail.com read as gmail.com (gmail)."""
    if email is None or not providers or "@" not in email:
        return email
    local, domain = email.rsplit("@", 1)
    for provider in providers:
        domains, canonical, ignore_dots = EMAIL_PROVIDERS[provider]
        if domain in domains:
            local = local.split("+", 1)[0]
            if ignore_dots:
                local = local.replace(".", "")
            domain = canonical or domain
            return f"{local}@{domain}" if local else None
    return email


def normalize_emails_with_rules(
    values: pl.Series, extra_placeholders: frozenset[str] = frozenset(), providers: tuple[str, ...] = ()
) -> pl.Series:
    """normalize_emails, then the configured providers' aliasing undone (distinct values once)."""
    emails = normalize_emails(values, extra_placeholders)
    if providers:
        emails = map_distinct(emails, lambda e: apply_email_provider_rules(e, providers))
    return emails


# ---------------------------------------------------------------------------------------------------------
# Names, places, addresses
# ---------------------------------------------------------------------------------------------------------

# Text that stands for "no value" in a name, city or address field.
PLACEHOLDER_NAMES = frozenset(
    {
        *PLACEHOLDER_TEXT,
        "unknown",
        "test",
        "测试",
        "xxx",
        "x",
        "?",
        "??",
        "???",
        "123",
        "123456",
        "匿名",
        "无名",
        "用户",
        "客户",
        "先生",
        "女士",
        "小姐",
        "某某",
        "待定",
        "空",
        "unnamed",
        "anonymous",
        "customer",
        "user",
    }
)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Middle dots used inside transliterated names (阿卜杜·热合曼): one spelling.
MIDDLE_DOTS = re.compile(r"[\u00b7\u2022\u2027\u30fb\u2219\u22c5\uff65]")
PUNCTUATION = re.compile(r"[^\w\s\u00b7]")
SPACES = re.compile(r"\s+")
APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
# Han characters are never separated by spaces in a name or address: 张 三 -> 张三.
SPACE_BETWEEN_HAN = re.compile(
    r"(?<=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])"
)

# In an address, spaces next to Han characters are layout: 北京市 朝阳区 88号 -> 北京市朝阳区88号.
SPACE_NEXT_TO_HAN = re.compile(
    r"(?<=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])\s+|\s+(?=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])"
)


@lru_cache(maxsize=1)
def simplified_converter() -> "opencc.OpenCC":
    """The OpenCC traditional -> simplified Chinese converter (built once)."""
    return opencc.OpenCC("t2s")


# Latin letters that no accent makes (NFKD leaves them whole), as the unaccented spelling of the same name
# writes them: Søren Ødegård = Soren Odegard, Łukasz = Lukasz, Weiß = Weiss.
LATIN_LETTERS = dict(zip("øłđðþæœßıħ", ("o", "l", "d", "d", "th", "ae", "oe", "ss", "i", "h"), strict=True))
_LATIN_LETTERS = str.maketrans(LATIN_LETTERS)


def fold_text(value: str) -> str:
    """Unicode-folded text: full-width -> half-width (NFKC), traditional -> simplified Chinese,
    lowercase, accents removed (and ø, ł, æ, ß … spelt as LATIN_LETTERS), whitespace collapsed and trimmed."""
    text = unicodedata.normalize("NFKC", value)
    if HAN.search(text):
        text = simplified_converter().convert(text)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c) and unicodedata.category(c)[0] != "C")
    text = unicodedata.normalize("NFKC", text).lower().translate(_LATIN_LETTERS)
    return SPACES.sub(" ", text).strip()


def _stable(fold: Callable[[str], str | None], value: str) -> str | None:
    """fold applied until its output no longer changes (a few passes at most), so normalizers are idempotent."""
    current: str | None = value
    for _ in range(4):
        if current is None:
            return None
        folded = fold(current)
        if folded == current:
            return folded
        current = folded
    return current


def _fold_name(value: str) -> str | None:
    text = MIDDLE_DOTS.sub("·", fold_text(value))
    if text in PLACEHOLDER_NAMES or "@" in text:  # an email typed into the field is no name or place
        return None
    text = APOSTROPHES.sub("", text)  # O'Neil -> oneil
    text = SPACES.sub(" ", PUNCTUATION.sub(" ", text).replace("_", " ")).strip(" ·")
    text = SPACE_BETWEEN_HAN.sub("", text)
    if not text or text in PLACEHOLDER_NAMES or not any(c.isalpha() for c in text):
        return None
    return text


def normalize_name(value: str | None) -> str | None:
    """A person's name folded for matching: 張 三 -> 张三, ＡＢＣ -> abc, José  Pérez -> jose perez;
    None when empty or a placeholder (未知, N/A, test)."""
    if value is None:
        return None
    return _stable(_fold_name, value)


def name_key(value: str | None) -> str | None:
    """A phonetic blocking key: pinyin syllables of Han characters and Latin words, sorted and joined.

    张三, 張三, Zhang San and San Zhang share the key 'sanzhang'. A key for blocking, not for matching:
    homophones share it by design.
    """
    return pinyin_key(normalize_name(value))


def pinyin_key(name: str | None) -> str | None:
    """name_key of a name normalize_name has already folded."""
    if name is None:
        return None
    tokens: list[str] = []
    for chunk in lazy_pinyin(name, errors="default"):
        tokens.extend(t for t in re.split(r"[\W_]+", fold_text(chunk)) if t)
    return "".join(sorted(tokens)) or None


# Administrative suffixes dropped from a city or province: 北京市 -> 北京, 广西壮族自治区 -> 广西.
PLACE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区")
PLACE_SUFFIXES += ("自治区", "自治州", "地区", "省", "市", " city", " shi", " province", " sheng")


def _fold_place(value: str) -> str | None:
    text = fold_text(value)
    if text in PLACEHOLDER_NAMES or "@" in text:  # an email typed into the field is no name or place
        return None
    text = SPACES.sub(" ", PUNCTUATION.sub(" ", APOSTROPHES.sub("", text))).strip()
    text = SPACE_BETWEEN_HAN.sub("", text)
    for suffix in PLACE_SUFFIXES:
        stem = text.removesuffix(suffix).strip()
        # 沙市 stays 沙市: a one-character stem is the name itself
        if stem != text and len(stem) >= 2:
            text = stem
            break
    if not text or text in PLACEHOLDER_NAMES or not any(c.isalpha() for c in text):
        return None
    return text


def normalize_place(value: str | None) -> str | None:
    """A city or province folded for matching: 北京市 / 北京 / ＢＥＩＪＩＮＧ City -> 北京 / beijing."""
    if value is None:
        return None
    return _stable(_fold_place, value)


# Latin street words, spelled out or abbreviated: one spelling (the abbreviation).
ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "place": "pl",
    "court": "ct",
    "circle": "cir",
    "terrace": "ter",
    "square": "sq",
    "highway": "hwy",
    "parkway": "pkwy",
    "crescent": "cres",
    "apartment": "apt",
    "building": "bldg",
    "floor": "fl",
    "room": "rm",
    "suite": "ste",
    "number": "no",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}


def _fold_address(value: str) -> str | None:
    text = fold_text(value)
    if text in PLACEHOLDER_NAMES or "@" in text:  # an email typed into the field is no name or place
        return None
    text = PUNCTUATION.sub(" ", APOSTROPHES.sub("", text).replace("#", " no "))
    words = [ADDRESS_WORDS.get(word, word) for word in SPACES.sub(" ", text).strip().split(" ")]
    text = SPACE_NEXT_TO_HAN.sub("", " ".join(words))
    if not text or text in PLACEHOLDER_NAMES or not any(c.isalpha() for c in text):
        return None
    return text


def normalize_address(value: str | None) -> str | None:
    """A street address folded for matching: full-width, traditional Chinese, case, accents, punctuation
    and street words (Street -> st, Road -> rd) made uniform; None for placeholders."""
    if value is None:
        return None
    return _stable(_fold_address, value)


# ---------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------


def map_distinct(
    values: pl.Series, function: Callable[[Any], Any], dtype: pl.DataType = pl.String
) -> pl.Series:
    """function over a column, called once per distinct non-null value (names repeat; the work is per value)."""
    distinct = values.drop_nulls().unique()
    mapping = pl.DataFrame(
        {"raw": distinct, "norm": [function(v) for v in distinct.to_list()]},
        schema={"raw": values.dtype, "norm": dtype},
    )
    frame = pl.DataFrame({"raw": values}).join(mapping, on="raw", how="left", maintain_order="left")
    return frame["norm"].rename(values.name)
