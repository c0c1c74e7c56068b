"""Checks the config models share: plain names, unique names, time zones; the config error."""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def check_name(value: str, what: str) -> str:
    """value if it is a plain lowercase name usable as an identifier, else a ValueError."""
    if not NAME_PATTERN.match(value):
        raise ValueError(f"{what} {value!r} must match {NAME_PATTERN.pattern}")
    return value


def check_unique(names: list[str], what: str) -> None:
    """A ValueError naming the repeated values if names has any."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} names must be unique; repeated: {repeated}")


class ConfigError(ValueError):
    """A config file that cannot be used, with a message naming the file and the field."""


def check_timezone(value: str) -> str:
    """value if it names an IANA time zone, else a ValueError."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
    return value
