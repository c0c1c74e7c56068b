"""What the matcher compares: comparisons (an attribute, a kind, the cuts of its levels) and the built-in ones.

Comparing customer records runs in three steps:
1. `tasks.dedupe.preparation.prepare_records`: comparison-ready fields (lowercase, unaccented, full-width
   folded, traditional→simplified, digits only; numbers for dates and amounts).
2. `tasks.dedupe.levels.code_records`: every compared value coded against one vocabulary, so equality is
   an integer comparison.
3. `tasks.dedupe.levels.comparison_levels`: per pair and comparison, an agreement level (exact, close,
   loose, none; -1 when either side is missing), computed with rapidfuzz over whole columns.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from tasks.shared.contracts import COMPARED_FIELDS, NUMBER_KINDS

# Default cuts of the levels below exact, best first (see Comparison).
DEFAULT_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "name": (0.92, 0.8),  # Jaro-Winkler similarity
    "string": (0.9, 0.75),
    "place": (0.88,),
    "text": (0.8, 0.5, 0.25),  # share of the shorter text's trigram weight in common (rare ones weigh more)
}
DEFAULT_WINDOWS_DAYS = (1, 7, 30)
DEFAULT_ABS_TOLERANCE = (0.01,)
DEFAULT_REL_TOLERANCE = (0.01, 0.1)
# Records of one person disagree on their sex about once in a hundred pairs (a data entry slip), different
# people half the time. Without a bound, pairs that share a household's phone, e-mail or address teach the
# matcher that its "matches" often disagree on sex, and husband and wife score as one person.
GENDER_MAX_M_DIFFERENT = 0.01
# The most of one person's record pairs that EM may have disagree on a strong identifier (e-mail, phone, national
# id): people change phones and e-mails, but a "match" class that never shares one is not people. Among the
# candidate pairs of a CRM without duplicates (common names in a few cities share blocks) EM otherwise settles on
# pairs of one given name as its matches, and a phone, an e-mail and a birth date that all differ weigh nothing
# against them. EM's alone (Comparison.em_max_different), not a label rule: a pair that shares an e-mail and
# differs in phone still teaches m.
IDENTIFIER_MAX_M_DIFFERENT = 0.5
# The birth date's levels that differ more than one person's records do (PersonConflict): within 10 years (1)
# and different (0), that is more than a year apart and neither one typo nor the day and month swapped.
BIRTH_DATES_APART = 1
# Kinds whose values are Jaro-Winkler compared (Han script: exact or different).
SIMILARITY_KINDS = frozenset({"name", "string", "place"})


@dataclass(frozen=True)
class Comparison:
    """One comparison of the matcher: an attribute, a kind, and how the kind's levels are cut.

    Levels are numbered from 0 (disagrees) up to levels - 1 (agrees exactly); -1 is "missing on a
    side" and counts as no evidence. Kinds (see tasks.shared.config.ComparisonConfig):
    exact; name, string, place (Jaro-Winkler at thresholds); code, email (one edit); birth_date (one
    edit or day/month swapped, within a year, within 10 years); date (within windows_days); numeric (abs_tolerance, then
    rel_tolerance); postcode (one edit, same district, same area); text (weighted trigram overlap).
    """

    name: str
    attribute: str  # a canonical customer field or a match column of the customers sources
    kind: str
    thresholds: tuple[float, ...] = ()
    windows_days: tuple[int, ...] = ()
    abs_tolerance: tuple[float, ...] = ()
    rel_tolerance: tuple[float, ...] = ()
    term_frequency: bool = False
    # the largest share of a person's record pairs that may disagree on it (level 0): m of "different"
    # learnt from labels or EM is capped there, and a labelled pair that disagrees is no label (None: no cap)
    max_m_different: float | None = None
    # with the given names different, a pair that differs on it (level 0) is two people (PersonConflict): an age
    person_conflict: bool = False
    # EM's cap of m of "different" when max_m_different is None, no label rule (IDENTIFIER_MAX_M_DIFFERENT)
    em_max_different: float | None = None

    @property
    def canonical(self) -> bool:
        """Whether the attribute is a canonical customer field (else a match column)."""
        return self.attribute in COMPARED_FIELDS

    @property
    def column(self) -> str:
        """The prepared column compared (numbers for date and numeric kinds)."""
        if self.canonical and self.kind not in NUMBER_KINDS:
            if self.attribute == "email" and self.kind != "email":
                return "email"
            return COMPARED_FIELDS[self.attribute]
        return f"c_{self.name}"

    def labels(self) -> tuple[str, ...]:
        """What each level means, level 0 (disagrees) first, the exact level last."""
        kind = self.kind
        if kind in SIMILARITY_KINDS:
            cuts = [f"similarity >= {t:g}" for t in reversed(self.thresholds)]
        elif kind == "text":
            cuts = [f"trigrams in common >= {t:.0%}" for t in reversed(self.thresholds)]
        elif kind in ("code", "email"):
            cuts = ["one edit apart"]
        elif kind == "birth_date":
            cuts = ["within 10 years", "within a year", "one edit apart or day and month swapped"]
        elif kind == "date":
            cuts = [f"within {d} days" for d in reversed(self.windows_days)]
        elif kind == "numeric":
            cuts = [f"within {t:.0%}" for t in reversed(self.rel_tolerance)]
            cuts += [f"within {t:g}" for t in reversed(self.abs_tolerance)]
        elif kind == "postcode":
            cuts = ["same area", "same district", "one edit apart"]
        else:
            cuts = []
        return ("different", *cuts, "exact")

    @property
    def bucket_width(self) -> float | None:
        """Date and numeric kinds: the width of the coarse blocking buckets (twice the widest level
        below exact), so that two values within it share a bucket of one of two offset grids."""
        if self.kind == "date":
            return 2.0 * max(self.windows_days)
        if self.kind == "numeric":  # relative levels only: the buckets of the default absolute level
            return 2.0 * max(self.abs_tolerance or DEFAULT_ABS_TOLERANCE)
        return None

    @property
    def levels(self) -> int:
        """Number of levels (disagreeing and exact included)."""
        return len(self.labels())


def comparison(
    name: str,
    kind: str,
    attribute: str | None = None,
    thresholds: Sequence[float] | None = None,
    windows_days: Sequence[int] | None = None,
    abs_tolerance: Sequence[float] | None = None,
    rel_tolerance: Sequence[float] | None = None,
    term_frequency: bool = False,
    max_m_different: float | None = None,
    person_conflict: bool = False,
) -> Comparison:
    """A Comparison with the kind's default cuts where none are given (sorted best first).

    A numeric comparison has the levels it is given: absolute ones, relative ones or both; the default absolute
    level (within 0.01) when it is given none (rel_tolerance left out or []), the default relative ones (within
    1% and 10%) only when it is given neither (a year compared within 1 and 2 would otherwise get "within 10%"
    too, which puts 1972 and 1993 on one level)."""
    if kind == "numeric":
        given_abs, given_rel = abs_tolerance is not None, rel_tolerance is not None
        if not given_abs and not rel_tolerance:
            abs_tolerance = DEFAULT_ABS_TOLERANCE
        if not given_abs and not given_rel:
            rel_tolerance = DEFAULT_REL_TOLERANCE
    return Comparison(
        name=name,
        attribute=attribute or name,
        kind=kind,
        thresholds=tuple(sorted(thresholds or DEFAULT_THRESHOLDS.get(kind, ()), reverse=True))
        if kind in DEFAULT_THRESHOLDS
        else (),
        windows_days=tuple(sorted(windows_days or DEFAULT_WINDOWS_DAYS)) if kind == "date" else (),
        abs_tolerance=tuple(sorted(abs_tolerance or ())) if kind == "numeric" else (),
        rel_tolerance=tuple(sorted(rel_tolerance or ())) if kind == "numeric" else (),
        term_frequency=term_frequency,
        max_m_different=max_m_different
        if max_m_different is not None and max_m_different < 1
        else None,  # 1: no cap
        person_conflict=person_conflict,
    )


# The built-in comparisons, on canonical customer fields.
DEFAULT_COMPARISONS: tuple[Comparison, ...] = (
    comparison("given", "name", "given_name", term_frequency=True),
    comparison("family", "name", "family_name", term_frequency=True),
    comparison("dob", "birth_date", "birth_date"),
    comparison("address", "string", "address"),
    comparison("city", "place", "city", term_frequency=True),
    comparison("postcode", "code", "postcode", term_frequency=True),
    replace(comparison("national_id", "code", "national_id"), em_max_different=IDENTIFIER_MAX_M_DIFFERENT),
    replace(comparison("email", "email", "email"), em_max_different=IDENTIFIER_MAX_M_DIFFERENT),
    replace(comparison("phone", "code", "phone"), em_max_different=IDENTIFIER_MAX_M_DIFFERENT),
    comparison("gender", "exact", "gender", max_m_different=GENDER_MAX_M_DIFFERENT),
)


def build_comparisons(configured: Sequence[object] = ()) -> tuple[Comparison, ...]:
    """The built-in comparisons with the configured ones (tasks.shared.config.ComparisonConfig) applied:
    one of the same name replaces the built-in one, others are added after them in config order. One that
    replaces a built-in comparison keeps its max_m_different and EM's cap unless it sets its own (1: none)."""
    builtin = {c.name: c for c in DEFAULT_COMPARISONS}
    made = {
        c.name: replace(
            comparison(
                c.name,
                c.kind,
                c.attribute,
                c.thresholds,
                c.windows_days,
                c.abs_tolerance,
                c.rel_tolerance,
                c.term_frequency,
                c.max_m_different
                if c.max_m_different is not None
                else getattr(builtin.get(c.name), "max_m_different", None),
                c.person_conflict,
            ),
            em_max_different=getattr(builtin.get(c.name), "em_max_different", None)
            if c.max_m_different is None
            else None,
        )
        for c in configured
    }
    result = [made.pop(c.name, c) for c in DEFAULT_COMPARISONS]
    return (*result, *made.values())


@dataclass(frozen=True)
class PersonConflict:
    """Two records that are two people however much else they share: their given names differ (level 0 of the
    given name's comparison), and so do their sex (level 0), their birth dates (BIRTH_DATES_APART or below) or a
    comparison configured with person_conflict (level 0: an age beyond its widest tolerance).

    Fellegi–Sunter adds the comparisons' weights as if they were independent, so the phone, e-mail, address and
    surname a household shares outweigh every personal difference: husband and wife, a parent and a grown child,
    score as one person. The matcher never links such a pair (tasks.dedupe.scoring; dedupe.person_conflicts).
    """

    given: str  # the comparison of the given name
    # (comparison, the highest of its levels that differs): any one of them will do
    differing: tuple[tuple[str, int], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The comparisons the rule reads."""
        return (self.given, *(name for name, _ in self.differing))

    def pairs(self, levels: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per pair (levels of every comparison, as tasks.dedupe.levels.comparison_levels gives them), whether the
        two are two people. A value missing on either side (-1) is no difference."""
        apart = np.zeros(len(levels[self.given]), dtype=bool)
        for differs in self._differences(levels).values():
            apart |= differs
        return (levels[self.given] == 0) & apart

    def reasons(self, levels: Mapping[str, np.ndarray], pair: int) -> tuple[str, ...]:
        """The comparisons besides the given name's that make one pair two people (none: it is no conflict)."""
        if not self.pairs(levels)[pair]:
            return ()
        return tuple(name for name, differs in self._differences(levels).items() if differs[pair])

    def _differences(self, levels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per differing comparison, the pairs whose values are both known and differ."""
        return {name: (levels[name] >= 0) & (levels[name] <= highest) for name, highest in self.differing}


def person_conflict(comparisons: Sequence[Comparison]) -> PersonConflict | None:
    """The conflict rule over these comparisons: the name-kind comparison of the given name, with the exact-kind one
    of the sex, the birth_date-kind one of the birth date and those configured with person_conflict (None without
    the first, or without any other)."""
    given = next((c.name for c in comparisons if c.attribute == "given_name" and c.kind == "name"), None)
    differing = [(c.name, 0) for c in comparisons if c.attribute == "gender" and c.kind == "exact"]
    differing += [
        (c.name, BIRTH_DATES_APART)
        for c in comparisons
        if c.attribute == "birth_date" and c.kind == "birth_date"
    ]
    differing += [(c.name, 0) for c in comparisons if c.person_conflict and c.name not in dict(differing)]
    if given is None or not differing:
        return None
    return PersonConflict(given, tuple(differing))


# Canonical customer fields the matcher reads (sql/core/match_records.sql selects them, in this order).
MATCH_FIELDS = (
    "full_name",
    "given_name",
    "family_name",
    "gender",
    "birth_date",
    "email_norm",
    "phone_norm",
    "national_id",
    "address",
    "city",
    "province",
    "postcode",
    "country",
)

PREPARED_COLUMNS = (
    "node",
    "given",
    "family",
    "full",
    "dob",
    "address",
    "city",
    "postcode",
    "province",
    "country",
    "national_id",
    "email_local",
    "email",
    "phone",
    "gender",
    "pinyin",
)
