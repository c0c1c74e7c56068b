"""How often things happen and how values are drawn: rates, difficulty settings, time draws, permutations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from sampledata.vocabulary import CITIES, GAME_P, HOUR_WEIGHTS, SURNAMES

# Rates: shares of persons, sessions and orders (the fault rates are in sampledata.faults).
SHARE_CRM = 0.90
SHARE_REREGISTERED = 0.08  # of persons with a CRM record
SHARE_HARD_DUPLICATE = 0.20  # of re-registrations: phone typo and a different e-mail


@dataclass(frozen=True)
class Corruption:
    """How often CRM records are corrupted the way people and sign-up forms corrupt them (sampledata.corruption)."""

    # Shares of the CRM persons: family members (same surname and city) sharing their head's phone;
    # look-alikes (same name, gender and city as another person); names written in Latin letters,
    # and of those, with an English given name (William or Bill) rather than the pinyin one.
    family_phone: float = 0.0025
    lookalike: float = 0.02
    latin_name: float = 0.06
    english_name: float = 0.5
    # Shares of the re-registrations: a name edit (typo, transposition, nickname or the other order,
    # weighted by name_edits in NAME_EDITS order); a birth-date typo or day and month swapped; and
    # each of birth date, city, e-mail and phone left blank, each field alone.
    name: float = 0.6
    name_edits: tuple[float, ...] = (0.4, 0.15, 0.2, 0.25)
    birth: float = 0.3
    missing: float = 0.25


@dataclass(frozen=True)
class Difficulty:
    """How hard the CRM duplicates are to find; only thresholds change, so every setting draws the same numbers.

    corruption draws from a random stream of its own, so a setting with it is a setting without it plus
    the corruption.
    """

    reregistered: float = SHARE_REREGISTERED  # of persons with a CRM record
    hard_duplicate: float = SHARE_HARD_DUPLICATE  # of re-registrations: phone typo and another e-mail
    moved: float = 0.15  # of re-registrations: another city
    traditional: float = 0.4  # of re-registrations: the name in traditional characters
    corruption: Corruption | None = None


# "hard": three times the re-registrations, most of them without any shared identifier, more moves.
# "adversarial": hard plus corrupted names, birth dates and blank fields, families sharing a phone, look-alikes.
DIFFICULTIES: dict[str, Difficulty] = {
    "default": Difficulty(),
    "hard": Difficulty(reregistered=0.25, hard_duplicate=0.7, moved=0.3, traditional=0.6),
    "adversarial": Difficulty(
        reregistered=0.25, hard_duplicate=0.7, moved=0.3, traditional=0.6, corruption=Corruption()
    ),
}
SHARE_NON_PLAYERS = 0.15  # all of them among CRM persons; guests always play
SHARE_STILL_ACTIVE = 0.45  # persons still playing at the end; the rest churned earlier

SESSIONS_LOG_SIGMA = 1.1
SESSIONS_LOG_MU = 1.94  # gives about 10 sessions per person overall
GUEST_ACTIVITY_FACTOR = 0.4  # persons without CRM play less
SHARE_GUEST_SESSIONS_MEMBERS = 0.06  # plus all sessions of non-members: about 10% overall
SHARE_WEB_SESSIONS = 0.05  # member sessions without a device id
MAX_SESSIONS = 3000

PAY_LOGIT = 1.0  # sigmoid(1 + z) averages about 0.7 for z ~ N(0, 1)
EXTRA_ORDERS_MEAN = 2.0
SHARE_REFUND = 0.05
SHARE_FULL_REFUND = 0.7
SHARE_PAYMENT_WITH_MEMBER = 0.96  # of orders by persons with a CRM record
SOCIAL_PER_SESSION = 0.05
SHARE_SURVEY = 0.10

# Times are naive local epoch seconds (Asia/Shanghai, no daylight saving).
DAY = 86_400
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Window:
    """Naive local epoch seconds of the first and last second of the generated period."""

    start: int
    end: int

    @classmethod
    def ending(cls, end: date, days: int) -> Window:
        """The window of `days` days ending with the day `end`."""
        return cls(local_seconds(end - timedelta(days=days - 1)), local_seconds(end) + DAY - 1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def probabilities(weights: Sequence[float]) -> np.ndarray:
    """Relative weights scaled to probabilities that sum to 1."""
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()


HOUR_P = probabilities(HOUR_WEIGHTS)
SURNAME_P = probabilities([s[3] for s in SURNAMES])
CITY_P = probabilities([c[2] for c in CITIES])
GAME_TYPE_P = probabilities(GAME_P)


def local_seconds(d: date) -> int:
    """Naive local epoch seconds of a day's midnight."""
    return (d - _EPOCH).days * DAY


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw n seconds after midnight, shaped by HOUR_WEIGHTS."""
    hour = rng.choice(24, size=n, p=HOUR_P)
    return hour.astype(np.int64) * 3600 + rng.integers(0, 3600, size=n)


def times_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Draw one timestamp in each [lo, hi] (inclusive), uniform by day and shaped by hour."""
    lo_day = lo // DAY
    span_days = hi // DAY - lo_day + 1
    day = lo_day + (rng.random(lo.size) * span_days).astype(np.int64)
    return np.clip(day * DAY + time_of_day(rng, lo.size), lo, hi)


def within(rng: np.random.Generator, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Draw a second uniformly in [start, start + length)."""
    return start + (rng.random(start.size) * np.maximum(length, 0)).astype(np.int64)


def permute(values: np.ndarray, domain: int, key: int) -> np.ndarray:
    """Map distinct integers in [0, domain) to distinct scrambled integers in [0, domain)."""
    bits = max(2, (domain - 1).bit_length())
    mask = np.uint64((1 << bits) - 1)
    shift = np.uint64(bits // 2)
    adds = [np.uint64((key >> s) & ((1 << bits) - 1)) for s in (0, 21, 42)]
    multipliers = [np.uint64(m & ((1 << bits) - 1)) for m in (0x9E3779B1, 0x85EBCA6B, 0xC2B2AE35)]

    def scramble(x: np.ndarray) -> np.ndarray:
        # Each step is a bijection on `bits`-bit integers: add, multiply by an odd number, xorshift.
        for add, mul in zip(adds, multipliers, strict=True):
            x = ((x + add) & mask) * mul & mask
            x ^= x >> shift
        return x

    out = scramble(values.astype(np.uint64))
    outside = out >= domain
    while outside.any():  # cycle-walk back into [0, domain); at most a few rounds since domain > 2**(bits-1)
        out[outside] = scramble(out[outside])
        outside = out >= domain
    return out.astype(np.int64)
