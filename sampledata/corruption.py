"""Corrupted CRM records for the "adversarial" difficulty: what people and sign-up forms do to a member's data.

Persons: families whose members share one phone (same surname and city, but distinct persons),
look-alikes (same name, gender and city, another birth date), and members who write their name in
Latin letters (pinyin, or an English given name). Re-registrations: a typo or a transposition in the
name (Han characters, pinyin or English), a nickname (小明, Bill for William), the other name order
(Wei Zhang for Zhang Wei; 张伟 written Wei Zhang), a digit typo or day and month swapped in the birth
date, and a blank birth date, city, e-mail or phone.

Every draw comes from a stream of its own (noise_stream), so the other difficulties draw the same
numbers as before and their files stay byte for byte the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from string import ascii_lowercase
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from sampledata.distributions import Corruption, probabilities
from sampledata.vocabulary import (
    ENGLISH_FEMALE,
    ENGLISH_MALE,
    GIVEN,
    HOMOPHONES,
    NICKNAME_PREFIXES,
    SURNAMES,
    to_traditional,
)

if TYPE_CHECKING:  # persons.py imports this module (Relatives)
    from sampledata.persons import Persons

# The third word of the corruption stream's seed: [seed, chunk_index, CORRUPTION_STREAM].
CORRUPTION_STREAM = 0xAD5E
NAME_EDITS: tuple[str, ...] = ("name_typo", "name_transposition", "nickname", "name_order")
BIRTH_EDITS: tuple[str, ...] = ("birth_typo", "birth_swap")
BLANKS: tuple[str, ...] = ("missing_birth", "missing_city", "missing_email", "missing_phone")
# What the counts name: persons (the first three), then re-registration rows.
CORRUPTIONS: tuple[str, ...] = (
    "family_phone",
    "lookalike",
    "latin_name",
    *NAME_EDITS,
    "traditional",
    *BIRTH_EDITS,
    "moved",
    *BLANKS,
)
# Digits of YYYYMMDD a birth-date typo hits: decade, year, month, day tens, day.
BIRTH_DIGITS: tuple[int, ...] = (2, 3, 5, 6, 7)
EARLIEST_BIRTH = date(1920, 1, 1)  # a typo that makes a member older than this is one the form refuses
_EPOCH = date(1970, 1, 1)


def noise_stream(seed: int, chunk_index: int) -> np.random.Generator:
    """The random stream of one chunk's corruption, apart from the stream of its clean data."""
    return np.random.default_rng([seed, chunk_index, CORRUPTION_STREAM])


# ---------------------------------------------------------------------------------------------
# Pure edits of one value
# ---------------------------------------------------------------------------------------------


def han_typo(given: str, op: int, where: float) -> str:
    """A typo in a Han given name: a character replaced by its homophone (op 0), dropped (1), or typed twice (2).

    where in [0, 1) picks the character; a one-character name loses nothing, it gets the homophone.
    """
    k = int(where * len(given))
    if op == 1 and len(given) > 1:
        return given[:k] + given[k + 1 :]
    if op == 2:
        return given[: k + 1] + given[k] + given[k + 1 :]
    return given[:k] + HOMOPHONES.get(given[k], given[k]) + given[k + 1 :]


def latin_typo(text: str, op: int, where: float, letter: int) -> str:
    """A typo in a Latin-script name: a letter replaced (op 0), dropped (1) or inserted after it (2).

    where in [0, 1) picks the letter among the letters; letter (0-25) is the letter typed; a word of
    one letter is never dropped.
    """
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    i = letters[int(where * len(letters))]
    typed = ascii_lowercase[letter]
    if op == 2:
        return text[: i + 1] + typed + text[i + 1 :]
    alone = (i == 0 or not text[i - 1].isalpha()) and (i + 1 == len(text) or not text[i + 1].isalpha())
    if op == 1 and not alone:
        return text[:i] + text[i + 1 :]
    if typed == text[i].lower():
        typed = ascii_lowercase[(letter + 1) % 26]
    return text[:i] + (typed.upper() if text[i].isupper() else typed) + text[i + 1 :]


def han_transposition(given: str) -> str | None:
    """A two-character Han given name with its characters swapped (伟明 -> 明伟); None when nothing changes."""
    if len(given) != 2 or given[0] == given[1]:
        return None
    return given[::-1]


def latin_transposition(text: str, where: float) -> str | None:
    """Two adjacent, different letters of one word swapped (Zhang -> Zahng); None when there are none."""
    spots = [
        i
        for i in range(len(text) - 1)
        if text[i : i + 2].isalpha() and text[i].lower() != text[i + 1].lower()
    ]
    if not spots:
        return None
    i = spots[int(where * len(spots))]
    first, second = text[i], text[i + 1]
    if first.isupper():  # the capital stays at the start of the word: Zhang -> Hzang, not hZang
        first, second = first.lower(), second.upper()
    return text[:i] + second + first + text[i + 2 :]


def birth_typo(day: date, where: float, add: int, latest: date) -> date | None:
    """The birth date with one digit mistyped (by add, 1-9), still a real date after 1920 and on or before latest.

    where in [0, 1) picks the first digit tried among BIRTH_DIGITS; the next ones are tried when the
    result is no date. None when no digit gives one.
    """
    digits = day.strftime("%Y%m%d")
    first = int(where * len(BIRTH_DIGITS))
    for k in range(len(BIRTH_DIGITS)):
        at = BIRTH_DIGITS[(first + k) % len(BIRTH_DIGITS)]
        typed = digits[:at] + str((int(digits[at]) + add) % 10) + digits[at + 1 :]
        try:
            value = date(int(typed[:4]), int(typed[4:6]), int(typed[6:]))
        except ValueError:
            continue
        if EARLIEST_BIRTH < value <= latest:
            return value
    return None


def swapped_birth(day: date) -> date | None:
    """The birth date with day and month swapped (1990-03-07 -> 1990-07-03); None when that is the same or no date."""
    if day.day > 12 or day.day == day.month:
        return None
    return date(day.year, day.day, day.month)


# ---------------------------------------------------------------------------------------------
# Persons: families sharing a phone, look-alikes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relatives:
    """Disjoint pairs of distinct CRM persons of one chunk (local indices) that are easy to take for one person."""

    head: np.ndarray
    member: np.ndarray  # a family member of head: same surname and city, and head's phone
    original: np.ndarray
    lookalike: np.ndarray  # same name, gender and city as original, another birth date

    @classmethod
    def draw(cls, noise: np.random.Generator, has_crm: np.ndarray, rates: Corruption) -> Relatives:
        """About rates.family_phone of the CRM persons as family members, rates.lookalike as look-alikes."""
        crm = noise.permutation(np.flatnonzero(has_crm))
        families = min(int(noise.binomial(crm.size, rates.family_phone)), crm.size // 2)
        pairs = min(int(noise.binomial(crm.size, rates.lookalike)), (crm.size - 2 * families) // 2)
        f, m = families, 2 * families + pairs
        return cls(crm[:f], crm[f : 2 * f], crm[2 * f : m], crm[m : m + pairs])

    def names(
        self, sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, female: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Name parts and genders with the family members' surnames and the look-alikes' names taken over."""
        sur, g1, g2, female = sur.copy(), g1.copy(), g2.copy(), female.copy()
        sur[self.member] = sur[self.head]
        for part in (sur, g1, g2, female):
            part[self.lookalike] = part[self.original]
        return sur, g1, g2, female

    def phone_owners(self, index: np.ndarray) -> np.ndarray:
        """Whose phone each person has (global index): family members have their head's."""
        owner = index.copy()
        owner[self.member] = index[self.head]
        return owner

    def places(self, city: np.ndarray, birth_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cities with the families' and look-alikes' shared; a look-alike born on the same day is born a year earlier."""
        city, birth_day = city.copy(), birth_day.copy()
        city[self.member] = city[self.head]
        city[self.lookalike] = city[self.original]
        same = birth_day[self.lookalike] == birth_day[self.original]
        birth_day[self.lookalike] -= np.where(same, 365, 0)
        return city, birth_day


# ---------------------------------------------------------------------------------------------
# CRM rows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """How one registration writes a name: family and given part, script and order."""

    family: str
    given: str
    latin: bool = False
    family_first: bool = True  # Han names always are

    def text(self) -> str:
        """The name as the 姓名 field holds it: 张伟明, Zhang Weiming or Weiming Zhang."""
        if not self.latin:
            return self.family + self.given
        parts = (self.family, self.given) if self.family_first else (self.given, self.family)
        return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class PersonName:
    """What a person's name is made of, and how the person writes it when registering."""

    family: str  # Han
    given: str  # Han, one or two characters
    pinyin_family: str  # capitalized: Zhang
    syllables: tuple[str, ...]  # of the given name: ("wei", "ming")
    english: tuple[str, str] | None  # an English given name and its short form: (William, Bill)
    latin: bool  # written in Latin letters: pinyin, or the English name
    short_first: bool  # the English name's short form at the first registration
    family_first: bool  # the pinyin name written Zhang Wei (else Wei Zhang); English names come first

    def pinyin(self, family_first: bool) -> Name:
        """The name in pinyin: Zhang Weiming, or Weiming Zhang."""
        return Name(self.pinyin_family, "".join(self.syllables).capitalize(), True, family_first)

    def usual(self) -> Name:
        """The name as the person writes it: Han characters, pinyin, or an English given name."""
        if not self.latin:
            return Name(self.family, self.given)
        if self.english is None:
            return self.pinyin(self.family_first)
        return Name(self.pinyin_family, self.english[self.short_first], True, False)


@dataclass(frozen=True)
class Edit:
    """A name edit and the draws it may use."""

    kind: str  # one of NAME_EDITS
    op: int  # a typo: 0 replaces, 1 drops, 2 inserts
    where: float  # which character or letter, in [0, 1)
    letter: int  # the letter a Latin typo types, 0-25
    prefix: str  # a Han nickname's prefix: 小 or 阿


def _typo(name: PersonName, edit: Edit) -> str:
    usual = name.usual()
    if usual.latin:
        return latin_typo(usual.text(), edit.op, edit.where, edit.letter)
    return usual.family + han_typo(usual.given, edit.op, edit.where)


def edited_name(name: PersonName, edit: Edit) -> tuple[str, str]:
    """The name with one edit, and the edit made (a transposition where none is possible is a typo).

    name_typo: 张伟 -> 张玮, Zhang Wei -> Zhang Wie; name_transposition: 张伟明 -> 张明伟, Zhang -> Zahng;
    nickname: 张伟明 -> 小明, William -> Bill, Zhang Weiming -> Xiaoming; name_order: Zhang Wei ->
    Wei Zhang, 张伟 -> Wei Zhang (pinyin, given name first).
    """
    usual = name.usual()
    if edit.kind == "name_transposition":
        swapped = (
            latin_transposition(usual.text(), edit.where)
            if usual.latin
            else (None if (given := han_transposition(usual.given)) is None else usual.family + given)
        )
        return (_typo(name, edit), "name_typo") if swapped is None else (swapped, edit.kind)
    if edit.kind == "nickname":
        if not usual.latin:
            return edit.prefix + usual.given[-1], edit.kind
        if name.english is not None:
            return Name(usual.family, name.english[not name.short_first], True, False).text(), edit.kind
        return "Xiao" + name.syllables[-1], edit.kind
    if edit.kind == "name_order":
        if usual.latin:
            return replace(usual, family_first=not usual.family_first).text(), edit.kind
        return name.pinyin(family_first=False).text(), edit.kind
    return _typo(name, edit), "name_typo"


@dataclass(frozen=True)
class Writing:
    """Per person of a chunk: whether the name is written in Latin letters, and how."""

    latin: np.ndarray
    english: np.ndarray  # index into the English names of the person's gender, -1: pinyin
    short_first: np.ndarray  # the English name's short form (Bill) at the first registration
    family_first: np.ndarray  # pinyin written Zhang Wei rather than Wei Zhang

    @classmethod
    def draw(cls, noise: np.random.Generator, has_crm: np.ndarray, rates: Corruption) -> Writing:
        """About rates.latin_name of the CRM persons write Latin letters, rates.english_name of those an English name."""
        n = has_crm.size
        latin = has_crm & (noise.random(n) < rates.latin_name)
        english = latin & (noise.random(n) < rates.english_name)
        pick = (noise.random(n) * len(ENGLISH_MALE)).astype(np.int64)  # as many English names of each gender
        return cls(latin, np.where(english, pick, -1), noise.random(n) < 0.5, noise.random(n) < 0.5)


@dataclass(frozen=True)
class Rows:
    """Per CRM row: whose it is and how the harder settings already write it."""

    person: np.ndarray  # local person index
    kind: np.ndarray  # 0 first registration, 1 re-registration, 2 re-registration without shared identifiers
    traditional: np.ndarray  # the name in traditional characters
    city: np.ndarray  # city index (moved re-registrations have another)
    shows_birth: np.ndarray  # the row writes a birth date at all


def person_name(p: Persons, writing: Writing, j: int) -> PersonName:
    """What person j's name is made of, and how the person writes it."""
    given = [g for g in (p.given1[j], p.given2[j]) if g >= 0]
    english = (
        None
        if writing.english[j] < 0
        else (ENGLISH_FEMALE if p.female[j] else ENGLISH_MALE)[writing.english[j]]
    )
    return PersonName(
        family=SURNAMES[p.surname[j]][0],
        given="".join(GIVEN[g][0] for g in given),
        pinyin_family=SURNAMES[p.surname[j]][2].capitalize(),
        syllables=tuple(GIVEN[g][2] for g in given),
        english=english,
        latin=bool(writing.latin[j]),
        short_first=bool(writing.short_first[j]),
        family_first=bool(writing.family_first[j]),
    )


def corrupt_registrations(
    noise: np.random.Generator,
    p: Persons,
    frame: pl.DataFrame,
    rows: Rows,
    latest: date,
    rates: Corruption,
) -> tuple[pl.DataFrame, np.ndarray, dict[str, int]]:
    """CRM rows as the adversarial setting writes them, and how many of each corruption they carry.

    frame: the rows' person strings (name, name_trad, phone, typo_phone, email, alt_email) and
    birth dates; latest: the last day a birth date may be. Returns the frame with the names as
    written (name and name_trad alike where rewritten), the birth dates mistyped or blank, blank
    e-mails and phones; the rows' cities (-1: blank); and the counts: persons for family_phone,
    lookalike and latin_name, re-registration rows for the rest (traditional and moved included,
    which the harder settings make too).
    """
    writing = Writing.draw(noise, p.has_crm, rates)
    person, n = rows.person, rows.person.size
    again = rows.kind > 0
    named = again & (noise.random(n) < rates.name)
    edit = np.where(named, noise.choice(len(NAME_EDITS), size=n, p=probabilities(rates.name_edits)), -1)
    op = noise.integers(0, 3, size=n)
    where = noise.random(n)
    letter = noise.integers(0, 26, size=n)
    prefix = noise.integers(0, len(NICKNAME_PREFIXES), size=n)
    dated = again & (noise.random(n) < rates.birth)
    birth_edit = np.where(dated, noise.integers(0, len(BIRTH_EDITS), size=n), -1)
    birth_where = noise.random(n)
    birth_add = noise.integers(1, 10, size=n)
    blank = again & (noise.random((len(BLANKS), n)) < rates.missing)
    blank[0] &= rows.shows_birth
    birth_edit[blank[0] | ~rows.shows_birth] = -1  # a birth date not written shows no typo

    counts: Counter[str] = Counter(
        family_phone=0 if p.relatives is None else p.relatives.member.size,
        lookalike=0 if p.relatives is None else p.relatives.lookalike.size,
        latin_name=int(writing.latin.sum()),
    )
    rewrite = np.flatnonzero(writing.latin[person] | (edit >= 0))
    shown: list[str] = []
    for i in rewrite:
        name = person_name(p, writing, person[i])
        if edit[i] < 0:
            text = name.usual().text()
        else:
            changed = Edit(NAME_EDITS[edit[i]], op[i], where[i], letter[i], NICKNAME_PREFIXES[prefix[i]])
            text, made = edited_name(name, changed)
            counts[made] += 1
        written = to_traditional(text) if rows.traditional[i] else text
        counts["traditional"] += bool(again[i] and written != text)
        shown.append(written)
    kept = np.ones(n, dtype=bool)
    kept[rewrite] = False
    han_traditional = again & kept & rows.traditional & (frame["name"] != frame["name_trad"]).to_numpy()
    counts["traditional"] += int(han_traditional.sum())

    days = p.birth_day[person].copy()
    for i in np.flatnonzero(birth_edit >= 0):
        born = _EPOCH + timedelta(days=int(days[i]))
        made = BIRTH_EDITS[birth_edit[i]]
        wrong = swapped_birth(born) if made == "birth_swap" else None
        if wrong is None:
            made, wrong = "birth_typo", birth_typo(born, birth_where[i], int(birth_add[i]), latest)
        if wrong is not None:
            days[i] = (wrong - _EPOCH).days
            counts[made] += 1

    counts["moved"] = int((again & (rows.city != p.city[person])).sum())
    # an e-mail to blank: there is one, and the row does not write a broken one instead (bad_email)
    email = np.where(rows.kind == 2, frame["alt_email"].is_not_null(), frame["email"].is_not_null())
    email &= (frame["bad_email"] == 0).to_numpy()
    for kind, count in zip(BLANKS, (blank[0], blank[1], blank[2] & email, blank[3]), strict=True):
        counts[kind] = int(count.sum())

    def blanked(column: str, mask: np.ndarray) -> pl.Expr:
        return pl.when(pl.Series(mask)).then(None).otherwise(pl.col(column)).alias(column)

    frame = frame.with_columns(
        frame["name"].clone().scatter(rewrite, shown),
        frame["name_trad"].clone().scatter(rewrite, shown),
        pl.from_epoch(pl.Series(days), time_unit="d").alias("birth"),
    ).with_columns(
        blanked("birth", blank[0]),
        blanked("email", blank[2]),
        blanked("alt_email", blank[2]),
        blanked("phone", blank[3]),
        blanked("typo_phone", blank[3]),
    )
    return frame, np.where(blank[1], -1, rows.city), {kind: counts[kind] for kind in CORRUPTIONS}
