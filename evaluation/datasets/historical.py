"""Historical-style people: noisy records of persons born mostly 1600–1899, with ground truth.

Like Splink's historical_50k (records of the same person taken from different registers): each
person has 1–5 records, every record an independently corrupted copy of the true values — name
typos, nicknames, initials, given and family name swapped, gaps in every field, a birth date with a
slipped digit, day and month swapped or only the year known, a postcode with wrong last characters or
only its outward code, another word for the occupation. Look-alikes make it hard: distinct persons
with the same common name in the same town (other birth date), and siblings (same family name, town
and postcode district). The true person is the `cluster` column.
"""

import calendar
import random
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl

from evaluation.datasets.corrupt import Zipf, digit_slip, typo
from evaluation.datasets.vocabulary import (
    FEMALE_NAMES,
    MALE_NAMES,
    NICKNAMES,
    OCCUPATIONS,
    SURNAMES,
    TOWN_VARIANTS,
    TOWNS,
)

COLUMNS = (
    "unique_id",
    "cluster",
    "full_name",
    "first_name",
    "surname",
    "dob",
    "birth_place",
    "postcode",
    "occupation",
    "gender",
)
DEFAULT_RECORDS = 10_000
RECORDS_PER_PERSON = (1, 2, 3, 4, 5)
RECORDS_WEIGHTS = (0.35, 0.25, 0.18, 0.12, 0.10)  # 2.37 records per person on average
LOOKALIKE_SHARE = 0.08  # a new person with the name and town of an earlier one, born another day
SIBLING_SHARE = 0.08  # a new person with the family name, town and postcode district of an earlier one
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters UK inward codes use


@dataclass(frozen=True)
class Person:
    """The true values of one person."""

    cluster: str
    gender: str
    first_name: str
    middle_name: str | None
    surname: str
    dob: date
    town: str
    area: str
    district: str  # the outward code's number part, e.g. '1A' of 'SW1A'
    inward: str  # e.g. '2AA'
    occupation: int  # index into OCCUPATIONS

    @property
    def postcode(self) -> str:
        return f"{self.area}{self.district} {self.inward}"


class HistoricalDraws:
    """The random draws of the builder: one generator, Zipf-weighted vocabularies."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.male = Zipf(MALE_NAMES, 1.0)
        self.female = Zipf(FEMALE_NAMES, 1.0)
        self.surname = Zipf(SURNAMES, 0.9)
        self.town = Zipf(TOWNS, 0.8)
        self.occupation = Zipf(range(len(OCCUPATIONS)), 1.0)

    def given(self, gender: str) -> str:
        return (self.male if gender == "male" else self.female).draw(self.rng)

    def birth_date(self, year: int | None = None) -> date:
        rng = self.rng
        year = year if year is not None else int(rng.triangular(1600, 1936, 1860))
        month = rng.randint(1, 12)
        return date(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))

    def district(self, area: str) -> str:
        rng = self.rng
        number = str(rng.randint(1, 20 if len(area) == 1 else 9))
        return (
            number + rng.choice(INWARD_LETTERS[:6])
            if area in ("SW", "W", "EC", "WC") and rng.random() < 0.2
            else number
        )

    def inward(self) -> str:
        rng = self.rng
        return f"{rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"

    def person(self, cluster: str, earlier: list[Person]) -> Person:
        """A new true person: fresh, or a look-alike or sibling of an earlier one."""
        rng = self.rng
        roll = rng.random()
        if earlier and roll < LOOKALIKE_SHARE:
            twin = rng.choice(earlier)
            year = min(1935, max(1600, twin.dob.year + rng.choice((-1, 1)) * rng.randint(0, 40)))
            dob = self.birth_date(year)
            if dob == twin.dob:
                dob = self.birth_date(year + 1)
            return replace(
                twin, cluster=cluster, dob=dob, inward=self.inward(), occupation=self.occupation.draw(rng),
                middle_name=self.given(twin.gender) if rng.random() < 0.25 else None,
            )  # fmt: skip
        if earlier and roll < LOOKALIKE_SHARE + SIBLING_SHARE:
            sibling = rng.choice(earlier)
            gender = rng.choice(("male", "female"))
            first = self.given(gender)
            while first == sibling.first_name:
                first = self.given(gender)
            year = min(1935, max(1600, sibling.dob.year + rng.randint(-15, 15)))
            return replace(
                sibling, cluster=cluster, gender=gender, first_name=first, dob=self.birth_date(year),
                middle_name=self.given(gender) if rng.random() < 0.25 else None,
                inward=sibling.inward if rng.random() < 0.5 else self.inward(),
                occupation=self.occupation.draw(rng),
            )  # fmt: skip
        gender = rng.choice(("male", "female"))
        town, area = self.town.draw(rng)
        return Person(
            cluster=cluster,
            gender=gender,
            first_name=self.given(gender),
            middle_name=self.given(gender) if rng.random() < 0.25 else None,
            surname=self.surname.draw(rng),
            dob=self.birth_date(),
            town=town,
            area=area,
            district=self.district(area),
            inward=self.inward(),
            occupation=self.occupation.draw(rng),
        )


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def corrupt_dob(dob: date, rng: random.Random) -> str | None:
    """The birth date as a register gives it: mostly right, else missing, slipped, swapped or only the year."""
    roll = rng.random()
    text = dob.isoformat()
    if roll < 0.12:
        return None
    if roll < 0.18:  # a slipped digit (tried until the result is a date: registers hold real dates)
        for _ in range(20):
            slipped = digit_slip(text, rng)
            if _valid_date(slipped):
                return slipped
        return text
    if roll < 0.22 and dob.day <= 12 and dob.day != dob.month:
        return date(dob.year, dob.day, dob.month).isoformat()
    if roll < 0.28:  # only the year is known
        return f"{dob.year}-01-01"
    if roll < 0.33:
        year = dob.year + rng.choice((-1, 1))
        return date(year, dob.month, min(dob.day, calendar.monthrange(year, dob.month)[1])).isoformat()
    return text


def corrupt_postcode(person: Person, rng: random.Random) -> str | None:
    """Missing, its last characters wrong, only the outward code, or right."""
    roll = rng.random()
    if roll < 0.25:
        return None
    if roll < 0.33:
        inward = person.inward[:-1] + rng.choice(INWARD_LETTERS)
        if rng.random() < 0.4:
            inward = inward[0] + rng.choice(INWARD_LETTERS) + inward[2]
        return f"{person.area}{person.district} {inward}"
    if roll < 0.43:
        return f"{person.area}{person.district}"
    return person.postcode


def corrupt_given(person: Person, rng: random.Random) -> str | None:
    """The given name as written: nickname, initial, typo, with the middle name, missing, or right."""
    name = person.first_name
    roll = rng.random()
    if roll < 0.02:
        return None
    if roll < 0.10 and name in NICKNAMES:
        return rng.choice(NICKNAMES[name])
    if roll < 0.13:
        return name[0]
    if roll < 0.21:
        return typo(name, rng)
    if roll < 0.26 and person.middle_name:
        return f"{name} {person.middle_name}"
    return name


def corrupt_surname(person: Person, rng: random.Random) -> str | None:
    """The family name as written: a typo, missing, or right."""
    roll = rng.random()
    if roll < 0.015:
        return None
    if roll < 0.105:
        return typo(person.surname, rng)
    return person.surname


def corrupt_town(person: Person, rng: random.Random) -> str | None:
    """The birth place as written: missing, another spelling, a typo, or right."""
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.20 and person.town in TOWN_VARIANTS:
        return rng.choice(TOWN_VARIANTS[person.town])
    if roll < 0.24:
        return typo(person.town, rng)
    return person.town


def corrupt_occupation(person: Person, rng: random.Random) -> str | None:
    """The occupation as written: missing, another word for it, or right."""
    canonical, variants = OCCUPATIONS[person.occupation]
    roll = rng.random()
    if roll < 0.30:
        return None
    if roll < 0.50:
        return rng.choice(variants)
    return canonical


def record(person: Person, rng: random.Random) -> dict[str, str | None]:
    """One register's record of a person (without its unique_id)."""
    first, surname = corrupt_given(person, rng), corrupt_surname(person, rng)
    if rng.random() < 0.03:  # entered the wrong way round
        first, surname = surname, first
    first_title = first.title() if first else None
    surname_title = surname.title() if surname else None
    middle = person.middle_name.title() if person.middle_name and rng.random() < 0.3 else None
    parts = (
        [first_title, middle, surname_title] if first and " " not in first else [first_title, surname_title]
    )
    town = corrupt_town(person, rng)
    return {
        "cluster": person.cluster,
        "full_name": " ".join(p for p in parts if p) or None,
        "first_name": first_title,
        "surname": surname_title,
        "dob": corrupt_dob(person.dob, rng),
        "birth_place": town.title() if town else None,
        "postcode": corrupt_postcode(person, rng),
        "occupation": corrupt_occupation(person, rng),
        "gender": None if rng.random() < 0.05 else person.gender,
    }


def build_people(records: int, seed: int) -> tuple[list[Person], pl.DataFrame]:
    """The true persons and exactly `records` corrupted records of them, in shuffled order."""
    if records < 1:
        raise ValueError("records must be at least 1")
    draws = HistoricalDraws(seed)
    rng = draws.rng
    people: list[Person] = []
    rows: list[dict[str, str | None]] = []
    while len(rows) < records:
        person = draws.person(f"p{len(people):06d}", people)
        people.append(person)
        copies = min(rng.choices(RECORDS_PER_PERSON, RECORDS_WEIGHTS)[0], records - len(rows))
        rows.extend(record(person, rng) for _ in range(copies))
    rng.shuffle(rows)
    for number, row in enumerate(rows):
        row["unique_id"] = f"r{number:06d}"
    return people, pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String))


def write_historical(directory: Path, records: int = DEFAULT_RECORDS, seed: int = 1) -> list[str]:
    """Write historical.csv (with its ground truth column `cluster`) into directory; the file names."""
    _, frame = build_people(records, seed)
    frame.write_csv(directory / "historical.csv")
    return ["historical.csv"]
