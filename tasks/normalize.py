"""Normalizers for match keys: pure functions, with vectorized versions for whole columns.

A normalizer returns None for a value that must never be used to match records: empty,
invalid, or a known placeholder (13800000000, test@test.com, 未知, N/A ...).
"""

import re
from functools import lru_cache

import phonenumbers
import polars as pl

PLACEHOLDER_TEXT = frozenset(
    {"", "-", "--", "n/a", "na", "null", "none", "nil", "未知", "无", "暂无", "不详", "0"}
)
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
    }
)
# Numbers people type when a form insists on a phone: well-known fillers,
# repeated digits and ascending runs.
PLACEHOLDER_PHONES = frozenset(
    {"+8613800000000", "+8613888888888", "+8613900000000", "+8613912345678", "+8618888888888"}
)

EMAIL_PATTERN = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$")
# Chinese mobile numbers in any common spelling: +86 138-0013-8000, 0086 13800138000, 8613800138000.
CN_MOBILE_FAST_PATH = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")


def normalize_email(value: str | None, extra_placeholders: frozenset[str] = frozenset()) -> str | None:
    """Trimmed, lowercased email, or None when invalid or a placeholder."""
    if value is None:
        return None
    email = value.strip().lower()
    if email in PLACEHOLDER_TEXT or not EMAIL_PATTERN.match(email):
        return None
    if email in PLACEHOLDER_EMAILS or email in extra_placeholders:
        return None
    return email


@lru_cache(maxsize=65536)
def _parse_phone(digits_and_plus: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(digits_and_plus, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(
    value: str | None, region: str = "CN", extra_placeholders: frozenset[str] = frozenset()
) -> str | None:
    """Phone in E.164 (+8613800138000), or None when invalid or a placeholder."""
    if value is None:
        return None
    compact = re.sub(r"[\s\-().]", "", value.strip())
    if compact.lower() in PLACEHOLDER_TEXT:
        return None
    fast = CN_MOBILE_FAST_PATH.match(compact) if region == "CN" else None
    e164 = f"+86{fast.group(1)}" if fast else _parse_phone(compact, region)
    if e164 is None or e164 in PLACEHOLDER_PHONES or e164 in extra_placeholders:
        return None
    if len(set(e164[-8:])) == 1:  # 13300000000-style fillers
        return None
    return e164


def normalize_emails(values: pl.Series, extra_placeholders: frozenset[str] = frozenset()) -> pl.Series:
    """normalize_email over a column, vectorized."""
    email = values.str.strip_chars().str.to_lowercase()
    bad = (
        email.is_in(list(PLACEHOLDER_TEXT | PLACEHOLDER_EMAILS | extra_placeholders))
        | ~email.str.contains(EMAIL_PATTERN.pattern)
    ).fill_null(True)
    return pl.select(pl.when(bad).then(None).otherwise(email)).to_series().rename(values.name)


def normalize_phones(
    values: pl.Series, region: str = "CN", extra_placeholders: frozenset[str] = frozenset()
) -> pl.Series:
    """normalize_phone over a column: a vectorized fast path for Chinese mobiles, the library for the rest."""
    frame = pl.DataFrame({"raw": values}).with_columns(
        compact=pl.col("raw").str.strip_chars().str.replace_all(r"[\s\-().]", "")
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
