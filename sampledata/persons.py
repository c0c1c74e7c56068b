"""The true persons of one chunk: names, contacts, devices, activity and spend."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from sampledata.corruption import Relatives
from sampledata.distributions import (
    CITY_P,
    DAY,
    GAME_TYPE_P,
    GUEST_ACTIVITY_FACTOR,
    MAX_SESSIONS,
    SESSIONS_LOG_MU,
    SESSIONS_LOG_SIGMA,
    SHARE_CRM,
    SHARE_NON_PLAYERS,
    SHARE_STILL_ACTIVE,
    SURNAME_P,
    Difficulty,
    Window,
    permute,
    probabilities,
    time_of_day,
)
from sampledata.faults import SHARE_PLACEHOLDER
from sampledata.formats import format_ids, hex_strings, pick
from sampledata.vocabulary import (
    CITIES,
    EMAIL_DOMAIN_P,
    EMAIL_DOMAINS,
    GAME_TYPES,
    GIVEN,
    GIVEN_FEMALE,
    GIVEN_MALE,
    PHONE_PREFIXES,
    PHONE_SUFFIXES,
    PLACEHOLDER_EMAIL,
    PLACEHOLDER_PHONE,
    QQ_DOMAIN,
    QQ_FIRST,
    SHARE_NO_EMAIL,
    SHARE_QQ_EMAIL,
    SHARE_SINGLE_GIVEN,
    SURNAMES,
)


@dataclass(frozen=True)
class Keys:
    """Seed-derived keys of the permutations that make phones, e-mails and devices unique."""

    phone: int
    qq: int
    email: int
    device: int
    device_tail: int
    email_domain: int  # e-mail numbers run 0..email_domain-1; alternative addresses use the next block

    @classmethod
    def derive(cls, seed: int, customers: int) -> Keys:
        """The keys for a seed; e-mail numbers get a domain ten times the persons (at least 1000)."""
        k = np.random.default_rng([seed, 0x5EED, 1]).integers(0, 2**62, size=5)
        return cls(*(int(x) for x in k), email_domain=max(1000, 10 * customers))


@dataclass(frozen=True)
class Persons:
    """One chunk of true persons: per-person arrays plus their rendered strings."""

    n: int
    person_id: pl.Series
    has_crm: np.ndarray
    reregistered: np.ndarray
    hard_duplicate: np.ndarray
    first_seen: np.ndarray  # registration time for CRM persons
    last_active: np.ndarray
    second_registration: np.ndarray
    spend: np.ndarray  # latent willingness to pay, N(0, 1)
    n_sessions: np.ndarray
    n_devices: np.ndarray
    favourite_game: np.ndarray
    city: np.ndarray
    birth_day: np.ndarray  # days since 1970-01-01
    strings: pl.DataFrame  # name, name_trad, gender, phone, typo_phone, email, alt_email
    devices: pl.Series  # three slots per person: device id of slot k is devices[3 * person + k]
    surname: np.ndarray  # index into SURNAMES
    given1: np.ndarray  # index into GIVEN
    given2: np.ndarray  # index into GIVEN, -1: a one-character given name
    female: np.ndarray
    relatives: Relatives | None = None  # families sharing a phone and look-alikes (adversarial only)


def typo_phones(rng: np.random.Generator, phones: np.ndarray) -> np.ndarray:
    """Change one of the last eight digits of each phone to another digit."""
    place = 10 ** rng.integers(0, 8, size=phones.size).astype(np.int64)
    old = (phones // place) % 10
    new = (old + rng.integers(1, 10, size=phones.size)) % 10
    return phones + (new - old) * place


def _draw_names(rng: np.random.Generator, female: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surname and one or two given-character indices (-1: no second character)."""
    n = female.size
    sur = rng.choice(len(SURNAMES), size=n, p=SURNAME_P)
    lo = np.where(female, len(GIVEN_MALE), 0)
    count = np.where(female, len(GIVEN_FEMALE), len(GIVEN_MALE))
    g1 = lo + (rng.random(n) * count).astype(np.int64)
    g2 = lo + (rng.random(n) * count).astype(np.int64)
    return sur, g1, np.where(rng.random(n) < SHARE_SINGLE_GIVEN, -1, g2)


def _names(sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, column: int) -> pl.Series:
    """Full names from name-part indices; column 0 gives simplified, 1 traditional, 2 pinyin."""
    surname = pick([s[column] for s in SURNAMES], sur)
    given = [g[column] for g in GIVEN]
    full = pl.concat_str(surname, pick(given, g1), pick(given, g2), ignore_nulls=True)
    return pl.select(full).to_series()


def _pinyin_emails(
    rng: np.random.Generator, sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, number: np.ndarray
) -> pl.Series:
    """Latin e-mails like weizhang123@163.com; the trailing number keeps each address unique."""
    n = sur.size
    s = _names(sur, np.full(n, -1), np.full(n, -1), 2)
    g = _names(np.full(n, -1), g1, g2, 2)
    letters = [x[2][0] for x in GIVEN]
    initials = pl.select(
        pl.concat_str(s.str.slice(0, 1), pick(letters, g1), pick(letters, g2), ignore_nulls=True)
    ).to_series()
    style = pl.Series(rng.integers(0, 5, size=n))
    local = pl.select(
        pl.when(style == 0)
        .then(g + s)
        .when(style == 1)
        .then(s + "." + g)
        .when(style == 2)
        .then(s + "_" + g)
        .when(style == 3)
        .then(initials)
        .otherwise(s + g)
    ).to_series()
    domain = pick(EMAIL_DOMAINS, rng.choice(len(EMAIL_DOMAINS), size=n, p=probabilities(EMAIL_DOMAIN_P)))
    return pl.select(pl.concat_str(local, pl.Series(number).cast(pl.String), pl.lit("@"), domain)).to_series()


def _contacts(
    rng: np.random.Generator,
    index: np.ndarray,
    sur: np.ndarray,
    g1: np.ndarray,
    g2: np.ndarray,
    keys: Keys,
    phone_owner: np.ndarray,
) -> pl.DataFrame:
    """Each person's phone (the phone owner's), phone with a typo, e-mail (maybe none) and an alternative e-mail."""
    n = index.size
    v = permute(phone_owner, len(PHONE_PREFIXES) * PHONE_SUFFIXES, keys.phone)
    phone = np.asarray(PHONE_PREFIXES, dtype=np.int64)[v // PHONE_SUFFIXES] * 10**8 + v % PHONE_SUFFIXES + 1
    typo_phone = typo_phones(rng, phone)
    number = permute(index, keys.email_domain, keys.email)
    qq = pl.Series(QQ_FIRST + permute(index, QQ_DOMAIN, keys.qq)).cast(pl.String) + "@qq.com"
    pinyin = _pinyin_emails(rng, sur, g1, g2, number)
    alt_email = _pinyin_emails(rng, sur, g1, g2, number + keys.email_domain)
    has_email = rng.random(n) >= SHARE_NO_EMAIL
    is_qq = rng.random(n) < SHARE_QQ_EMAIL
    placeholder = rng.random(n) < SHARE_PLACEHOLDER
    which = rng.integers(0, 3, size=n)  # placeholder phone, e-mail, or both
    fake_phone = pl.Series(placeholder & (which != 1))
    fake_email = pl.Series(placeholder & (which != 0))
    return pl.select(
        phone=pl.when(fake_phone).then(pl.lit(PLACEHOLDER_PHONE)).otherwise(pl.Series(phone).cast(pl.String)),
        typo_phone=pl.when(fake_phone)
        .then(pl.lit(PLACEHOLDER_PHONE))
        .otherwise(pl.Series(typo_phone).cast(pl.String)),
        email=pl.when(fake_email)
        .then(pl.lit(PLACEHOLDER_EMAIL))
        .when(pl.Series(has_email))
        .then(pl.when(pl.Series(is_qq)).then(qq).otherwise(pinyin)),
        alt_email=alt_email,
    )


def _device_ids(index: np.ndarray, keys: Keys) -> pl.Series:
    """Three device ids per person (D + 12 hex digits), unique over the whole data set."""
    slot = (index[:, None] * 3 + np.arange(3)).ravel()
    value = (permute(slot, 2**32, keys.device) << 16) | (permute(slot, 2**32, keys.device_tail) & 0xFFFF)
    return pl.select(pl.lit("D") + hex_strings(value, 12)).to_series()


def make_persons(
    rng: np.random.Generator,
    first: int,
    n: int,
    window: Window,
    keys: Keys,
    level: Difficulty,
    noise: np.random.Generator | None = None,
) -> Persons:
    """Draw the true persons first..first+n-1 (0-based global index) of one chunk.

    noise: the chunk's corruption stream (sampledata.corruption), for a level with corruption.
    """
    index = np.arange(first, first + n, dtype=np.int64)
    female = rng.random(n) < 0.45
    sur, g1, g2 = _draw_names(rng, female)
    has_crm = rng.random(n) < SHARE_CRM
    relatives, phone_owner = None, index
    if level.corruption is not None and noise is not None:
        relatives = Relatives.draw(noise, has_crm, level.corruption)
        sur, g1, g2, female = relatives.names(sur, g1, g2, female)
        phone_owner = relatives.phone_owners(index)
    reregistered = has_crm & (rng.random(n) < level.reregistered)

    # Sign-ups grow over the period; some persons churn, the rest stay active until the end.
    n_days = (window.end - window.start + 1) // DAY
    first_day = window.start // DAY + (n_days * rng.random(n) ** (1 / 1.5)).astype(np.int64)
    first_seen = first_day * DAY + time_of_day(rng, n)
    remaining = window.end - first_seen
    churned_at = first_seen + (remaining * rng.beta(1.2, 2.0, size=n)).astype(np.int64)
    second_at = first_seen + 3600 + (remaining * rng.beta(1.0, 1.5, size=n)).astype(np.int64)

    plays = ~has_crm | (rng.random(n) >= SHARE_NON_PLAYERS / SHARE_CRM)
    raw = rng.lognormal(SESSIONS_LOG_MU, SESSIONS_LOG_SIGMA, size=n)
    raw *= np.where(has_crm, 1.0, GUEST_ACTIVITY_FACTOR)
    age_years = 18.01 + 47.8 * rng.beta(2.0, 3.5, size=n)
    strings = pl.DataFrame(
        {
            "name": _names(sur, g1, g2, 0),
            "name_trad": _names(sur, g1, g2, 1),
            "gender": pick(("男", "女"), female.astype(np.int64)),
        }
    ).hstack(_contacts(rng, index, sur, g1, g2, keys, phone_owner))
    persons = Persons(
        n=n,
        person_id=format_ids("P", index + 1, 7),
        has_crm=has_crm,
        reregistered=reregistered,
        hard_duplicate=reregistered & (rng.random(n) < level.hard_duplicate),
        first_seen=first_seen,
        last_active=np.where(rng.random(n) < SHARE_STILL_ACTIVE, window.end, churned_at),
        second_registration=np.minimum(second_at, window.end),
        spend=rng.normal(size=n),
        n_sessions=np.where(plays, np.clip(np.rint(raw), 1, MAX_SESSIONS), 0).astype(np.int64),
        n_devices=rng.choice(3, size=n, p=[0.6, 0.3, 0.1]) + 1,
        favourite_game=rng.choice(len(GAME_TYPES), size=n, p=GAME_TYPE_P),
        city=rng.choice(len(CITIES), size=n, p=CITY_P),
        birth_day=window.end // DAY - (age_years * 365.25).astype(np.int64),
        strings=strings,
        devices=_device_ids(index, keys),
        surname=sur,
        given1=g1,
        given2=g2,
        female=female,
    )
    if relatives is None:
        return persons
    city, birth_day = relatives.places(persons.city, persons.birth_day)
    return replace(persons, city=city, birth_day=birth_day, relatives=relatives)
