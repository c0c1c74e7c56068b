"""Birth dates as a match key: the layouts a text birth date is read in, and the dates never worth matching on
(placeholders, dates after as_of or before the earliest plausible one)."""

import re
import unicodedata
from datetime import date, datetime
from typing import Literal

from tasks.shared.contracts import EARLIEST_BIRTH_DATE

DateOrder = Literal["dmy", "mdy", "reject"]
# Dates forms fill in when nobody typed one: never a birth date worth matching on.
PLACEHOLDER_BIRTH_DATES = frozenset({date(1900, 1, 1), date(1970, 1, 1), date(2000, 1, 1), date(1901, 1, 1)})
YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?.*)?$"
)
YMD_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
DOTTED_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
SLASHED = re.compile(r"^(\d{1,2})\s*[/-]\s*(\d{1,2})\s*[/-]\s*(\d{4})$")


def _valid_birth_date(year: int, month: int, day: int, latest: date, earliest: date) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    if value in PLACEHOLDER_BIRTH_DATES or not earliest < value <= latest:
        return None
    return value


def normalize_birth_date(
    value: str | date | None,
    date_order: DateOrder = "reject",
    latest: date | None = None,
    earliest: date = EARLIEST_BIRTH_DATE,
) -> date | None:
    """A birth date from the common spellings, or None when unreadable, ambiguous, implausible or a placeholder.

    Accepted: 1990-01-02, 1990/1/2, 1990.1.2, 1990年1月2日, 19900102, an ISO date-time (its date),
    02.01.1990 (dotted: day first), and 02/01/1990 or 02-01-1990 read by date_order ('dmy', 'mdy';
    'reject' reads only the unambiguous ones such as 25/12/1990). Not accepted: two-digit years,
    month names, Excel serial numbers. Placeholders (1900-01-01, 1970-01-01, 2000-01-01), dates on or
    before earliest (default 1000-01-01: historical records keep their dates) and dates after latest
    (default: today) are None.
    """
    if value is None:
        return None
    latest = latest or date.today()
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return _valid_birth_date(value.year, value.month, value.day, latest, earliest)
    text = unicodedata.normalize("NFKC", value).strip().lower()
    if match := YMD.match(text) or YMD_COMPACT.match(text):
        year, month, day = (int(g) for g in match.groups()[:3])
        return _valid_birth_date(year, month, day, latest, earliest)
    if match := DOTTED_DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
        return _valid_birth_date(year, month, day, latest, earliest)
    if match := SLASHED.match(text):
        first, second, year = (int(g) for g in match.groups())
        if first > 12 >= second or date_order == "dmy" and second <= 12:
            return _valid_birth_date(year, second, first, latest, earliest)
        if second > 12 >= first or date_order == "mdy" and first <= 12:
            return _valid_birth_date(year, first, second, latest, earliest)
    return None
