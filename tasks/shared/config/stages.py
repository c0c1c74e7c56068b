"""Config of the dedupe, features and segment stages."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tasks.shared.config.checks import check_name, check_unique
from tasks.shared.contracts import (
    BLOCKING_RULES,
    COMPARED_FIELDS,
    EARLIEST_BIRTH_DATE,
    NUMBER_KINDS,
    RESERVED_MATCH_NAMES,
    comparison_rules,
)
from tasks.shared.rules import RuleError, compile_rule


class FeatureConfig(BaseModel):
    """Settings of the features stage."""

    model_config = ConfigDict(extra="forbid")

    session_event_types: list[str] = Field(
        default_factory=lambda: ["session"],
        description="event_type values that count as a session (game played, visit).",
    )


class RuleSegmentConfig(BaseModel):
    """A business-defined segment: a rule over feature names (see tasks/shared/rules.py for the language)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Segment id (a-z, 0-9, _), as published.")
    label_en: str = Field(description="English label.")
    label_zh: str = Field(description="Chinese label.")
    when: str = Field(description='The rule, e.g. "sessions_90d >= 5 and frequency is null".')
    priority: int = Field(
        default=0, description="Higher wins inside an exclusive group; also the listing order."
    )
    exclusive_group: str | None = Field(
        default=None,
        description="Of the rules sharing a group, a customer keeps only the highest-priority match.",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return check_name(value, "rule name")

    @model_validator(mode="after")
    def _rule_compiles(self) -> "RuleSegmentConfig":
        try:
            compile_rule(self.when)
        except RuleError as error:
            raise ValueError(f"rule {self.name!r}: {error} (in {self.when!r})") from None
        return self


DEFAULT_RULES = (
    RuleSegmentConfig(
        name="high_frequency_players",
        label_en="High-frequency players",
        label_zh="高频玩家",
        when="sessions_90d >= 5",
        priority=10,
    ),
    RuleSegmentConfig(
        name="high_intent_not_paying",
        label_en="High intent, never paid",
        label_zh="高意向未付费",
        when="sessions_180d >= 3 and frequency is null",
        priority=20,
    ),
    RuleSegmentConfig(
        name="churn_warning",
        label_en="Churn warning",
        label_zh="流失预警",
        when="risk_tier = 'high' and frequency >= 2 and recency_days <= 90",
        priority=30,
    ),
)


def _cut_points(name: str, values: list[float]) -> list[float]:
    """values if they are 4 strictly ascending cut points, else a clear error."""
    if len(values) != 4:
        raise ValueError(f"{name}: 4 cut points make 5 scores; got {len(values)}")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"{name}: cut points must be strictly ascending; got {values}")
    return values


class RfmBinsConfig(BaseModel):
    """Cut points of the fixed RFM score method; a value on a cut point takes the better score."""

    model_config = ConfigDict(extra="forbid")

    recency_days: list[float] = Field(
        default=[7, 30, 90, 180],
        description="Days since the last purchase: <= 1st cut is R 5, <= 2nd is 4, … beyond the 4th is 1.",
    )
    frequency: list[float] = Field(
        default=[2, 3, 5, 10],
        description="Orders: below the 1st cut is F 1, from the 1st cut 2, … from the 4th cut 5.",
    )
    monetary: list[float] = Field(
        default=[100, 500, 2000, 10000],
        description="Net spend: below the 1st cut is M 1, from the 1st cut 2, … from the 4th cut 5.",
    )

    @field_validator("recency_days", "frequency", "monetary")
    @classmethod
    def _four_ascending(cls, values: list[float], info: Any) -> list[float]:
        return _cut_points(info.field_name, values)


class SegmentConfig(BaseModel):
    """Settings of the segment stage."""

    model_config = ConfigDict(extra="forbid")

    clusters: int = Field(default=4, ge=2, le=20, description="Number of KMeans clusters.")
    random_state: int = Field(
        default=0, ge=0, le=2**32 - 1, description="Seed of KMeans, so clusters are reproducible."
    )
    rules: list[RuleSegmentConfig] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        description="Rule segments; defaults: 5+ games in the last 90 days; 3+ games in 180 days and never paid; "
        "repeat payers who paid in the last 90 days and are at high churn risk (流失预警).",
    )
    cn_rfm_threshold: int = Field(
        default=3,
        ge=2,
        le=5,
        description="Chinese 8-class RFM scheme: an R, F or M score at or above this is 'high' (重要/高), below is 'low'.",
    )
    tier_high_share: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="Value tiers: the top share of purchasers by monetary is high value.",
    )
    tier_medium_share: float = Field(
        default=0.3, gt=0, lt=1, description="Value tiers: the next share of purchasers is medium value."
    )
    new_days: int = Field(
        default=30,
        gt=0,
        description="Lifecycle: a first purchase within the last new_days days (as_of included) makes a new customer.",
    )
    active_days: int = Field(
        default=30,
        gt=0,
        description="Lifecycle: activity (a purchase, session or event) within the last active_days days is active.",
    )
    sleeping_days: int = Field(
        default=90,
        gt=0,
        description="Lifecycle: last activity older than active_days, within this many days, is sleeping; older is churned.",
    )
    score_method: Literal["quintile", "fixed"] = Field(
        default="quintile",
        description="RFM scores: 'quintile' (rank-based, ties share a score) or 'fixed' (the cut points in score_bins).",
    )
    score_bins: RfmBinsConfig = Field(
        default_factory=lambda: RfmBinsConfig(),
        description="Cut points of the fixed RFM score method: 4 ascending values per dimension.",
    )
    cluster_k: Literal["fixed", "silhouette"] = Field(
        default="fixed",
        description="Number of clusters: 'fixed' (= clusters) or 'silhouette' (best of cluster_k_min..cluster_k_max).",
    )
    cluster_k_min: int = Field(
        default=2, ge=2, le=20, description="Smallest k tried by the silhouette choice."
    )
    cluster_k_max: int = Field(
        default=8, ge=2, le=20, description="Largest k tried by the silhouette choice."
    )
    cluster_sample_size: int = Field(
        default=5_000,
        ge=100,
        le=20_000,
        description="Customers sampled (deterministically) to compute silhouette scores.",
    )
    cluster_fit_sample_size: int = Field(
        default=200_000,
        ge=1_000,
        description="KMeans is fitted on at most this many customers (a deterministic sample); all are assigned.",
    )
    cluster_match_distance: float = Field(
        default=1.0,
        gt=0,
        description="A centroid within this distance (standardized units) of a previous one keeps its id and name.",
    )
    cluster_refit_every_days: int = Field(
        default=7, ge=1, description="Days from its fit day after which the cluster model is fitted again."
    )

    @model_validator(mode="after")
    def _ordered(self) -> "SegmentConfig":
        if self.tier_high_share + self.tier_medium_share >= 1:
            raise ValueError("tier_high_share + tier_medium_share must be below 1 (the rest is low value)")
        if self.sleeping_days <= self.active_days:
            raise ValueError("sleeping_days must be larger than active_days")
        if self.cluster_k_max < self.cluster_k_min:
            raise ValueError("cluster_k_max must be at least cluster_k_min")
        check_unique([rule.name for rule in self.rules], "rule")
        return self


ComparisonKind = Literal[
    "exact", "name", "string", "code", "email", "birth_date", "date", "numeric", "postcode", "place", "text"
]


class ComparisonConfig(BaseModel):
    """One comparison of the probabilistic matcher: which attribute, how its agreement levels are cut."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Name of the comparison (a built-in one of the same name is replaced).")
    column: str | None = Field(
        default=None,
        description="The attribute compared: a canonical customer field (city, postcode, birth_date, ...) or a "
        "match_columns name of the customers sources. Default: the comparison's name.",
    )
    kind: ComparisonKind = Field(
        description="exact (equal or not); name (Jaro-Winkler levels, Han names exact only, an initial and a "
        "name it begins no evidence); string "
        "(Jaro-Winkler at `thresholds`); code (equal, one edit); email (local part: equal, one edit); "
        "birth_date (equal, one edit or day/month swapped, within a year, within 10 years); date (equal, then "
        "within each of `windows_days`); numeric (equal, then within each `abs_tolerance`, then each "
        "`rel_tolerance`: the levels given, or both defaults when neither is); postcode (equal, one edit, same "
        "district, same area); place (Jaro-Winkler at "
        "`thresholds`); text (free-text overlap: the share of the shorter text's word trigrams in common, "
        "rare ones weigh more, at `thresholds`)."
    )
    thresholds: list[float] | None = Field(
        default=None,
        description="string, name, place: Jaro-Winkler similarities of the levels below exact (default: string "
        "0.9, 0.75; name 0.92, 0.8; place 0.88); text: shares of trigram weight in common (default 0.8, 0.5, "
        "0.25). Best first.",
    )
    windows_days: list[int] | None = Field(
        default=None, description="date: days apart of the levels below equal (default 1, 7, 30)."
    )
    abs_tolerance: list[float] | None = Field(
        default=None,
        description="numeric: absolute differences of the levels below equal (default 0.01 when neither "
        "abs_tolerance nor rel_tolerance is given).",
    )
    rel_tolerance: list[float] | None = Field(
        default=None,
        description="numeric: relative differences of the levels after abs_tolerance (default 0.01, 0.1 when "
        "neither abs_tolerance nor rel_tolerance is given: a year compared within 1 and 2 gets no relative level, "
        "where 1972 and 1993 would be within 10%).",
    )
    term_frequency: bool = Field(
        default=False,
        description="Agreeing exactly on a rare value counts more than on a common one (the value's own share of "
        "records is its chance agreement).",
    )
    max_m_different: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="At most this share of one person's record pairs disagree on it (its level 'different'): the "
        "m learnt from labelled pairs or EM is capped there, and a pair that shares an e-mail, phone or national "
        "id but disagrees on it is not taken as a labelled match. Built in: 0.01 for gender (kept by a gender "
        "comparison that replaces it, unless it sets its own; 1 for no cap).",
    )
    person_conflict: bool = Field(
        default=False,
        description="Two records whose given names differ and that differ on this comparison (its level "
        "'different') are two people, never linked (dedupe.person_conflicts), as a different sex or birth dates "
        "more than a year apart are built in: set it on an age or a birth year, so that a household's "
        "parent and grown child, who share an address, a phone and a family name, stay two customers.",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if value in RESERVED_MATCH_NAMES:
            raise ValueError(f"{value!r} is a name the matcher uses itself; call the comparison otherwise")
        return check_name(value, "comparison name")

    @field_validator("thresholds", "abs_tolerance", "rel_tolerance", "windows_days")
    @classmethod
    def _levels_non_empty(cls, value: list | None, info: ValidationInfo) -> list | None:
        if (
            value is not None and not value and info.field_name != "rel_tolerance"
        ):  # [] turns relative levels off
            raise ValueError("give at least one level, or leave the key out for the default")
        if value is not None and any(v <= 0 for v in value):
            raise ValueError("levels must be positive")
        return value

    @model_validator(mode="after")
    def _options_fit_kind(self) -> "ComparisonConfig":
        allowed = {
            "thresholds": {"string", "name", "place", "text"},
            "windows_days": {"date"},
            "abs_tolerance": {"numeric"},
            "rel_tolerance": {"numeric"},
        }
        for option, kinds in allowed.items():
            if getattr(self, option) is not None and self.kind not in kinds:
                raise ValueError(
                    f"{option} is for comparisons of kind {' or '.join(sorted(kinds))}, not {self.kind}"
                )
        if self.thresholds is not None and any(t >= 1 for t in self.thresholds):
            raise ValueError("thresholds are similarities below 1 (1 is the exact level)")
        return self

    @property
    def attribute(self) -> str:
        """The attribute compared (column, else the name)."""
        return self.column or self.name


class DedupeConfig(BaseModel):
    """Settings of the dedupe stage."""

    model_config = ConfigDict(extra="forbid")

    default_region: str = Field(
        default="CN", description="Region used to read phone numbers written without a country code."
    )
    max_key_records: int = Field(
        default=20,
        ge=2,
        description="An email, phone or device id shared by more records than this is not used to match "
        "(a shared family phone, an internet cafe device); such keys are listed in the run summary.",
    )
    placeholders: list[str] = Field(
        default_factory=list,
        description="Extra placeholder values (emails or phones) never used to match, added to the built-in list.",
    )
    source_priority: list[str] = Field(
        default_factory=list,
        description="Customers sources in order of trust for the golden record: a field comes from the first "
        "listed source that has it, then the most recent value, then the most frequent. Unlisted sources rank last.",
    )
    email_provider_rules: list[Literal["gmail", "outlook", "icloud"]] = Field(
        default_factory=list,
        description="Email providers whose aliases are undone before matching: plus-tags dropped (all), dots in "
        "the local part dropped and googlemail.com read as gmail.com (gmail). Off by default.",
    )
    date_order: Literal["dmy", "mdy", "reject"] = Field(
        default="reject",
        description="How birth dates such as 02/01/1990 are read: day first (dmy), month first (mdy), or not "
        "at all (reject; unambiguous ones such as 25/12/1990 are always read).",
    )
    probabilistic: bool = Field(
        default=True,
        description="After the exact rules, also link records that share no strong identifier when name, "
        "birth date, address, city and partial identifiers agree strongly (Fellegi-Sunter, see tasks/dedupe/).",
    )
    match_threshold: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="Probabilistic links need at least this match probability (higher: fewer false merges).",
    )
    person_conflicts: bool = Field(
        default=True,
        description="Never link two records to each other probabilistically whose given names differ and whose "
        "sex or birth dates (more than a year apart, not a typo) differ too, however much else they share: a "
        "household's phone, e-mail, address and surname otherwise outweigh every personal difference. A phone, "
        "e-mail or device id that such records share is a household's and links nobody (a national id still "
        "links: it is one person's).",
    )
    blocking_rules: list[str] | None = Field(
        default=None,
        description="Which blocking rules (tasks/shared/contracts.py) propose candidate pairs. Default: chosen "
        "from the data each run: the rules are counted and the tightest ones taken while their pairs fit "
        "max_candidate_pairs (the run summary lists them with their pair counts).",
    )
    max_candidate_pairs: int = Field(
        default=2_000_000,
        ge=1000,
        description="Pair budget of the blocking rules chosen from the data: at least this many pairs, or 12 per "
        "record when there are more records (a rule's pairs are counted before it is chosen).",
    )
    link_type: Literal["link_and_dedupe", "link_only", "dedupe_only"] = Field(
        default="link_and_dedupe",
        description="link_and_dedupe: records link within and across sources; link_only: records of the same "
        "source never link probabilistically (two systems' copies of the same rows); dedupe_only: only within "
        "a source.",
    )
    one_to_one: list[list[str]] = Field(
        default_factory=list,
        description="Pairs of customers sources whose records link probabilistically at most one to one (each "
        "record to the best scoring record of the other source), e.g. [[bank, ledger]]. Records sharing a strong "
        "identifier (email, phone, id) are one customer regardless.",
    )
    comparisons: list[ComparisonConfig] = Field(
        default_factory=list,
        description="Comparisons beside the built-in ones (names, birth date, address, city, postcode, national "
        "id, email, phone, gender); one of the same name replaces the built-in one.",
    )
    earliest_birth_date: date = Field(
        default=EARLIEST_BIRTH_DATE,
        description="Birth dates on or before this are implausible and not used to match (placeholders such as "
        "1900-01-01 and 1970-01-01 never are; dates after as_of neither).",
    )
    max_block_size: int = Field(
        default=25,
        ge=2,
        description="A blocking key value shared by more records than this proposes no pairs "
        "(keeps candidate pairs near-linear in the number of records).",
    )
    max_cluster_size: int = Field(
        default=50,
        ge=2,
        description="A cluster larger than this is not merged blindly: it is re-split without its "
        "probabilistic links, and what is still too large stays as single records; each such cluster "
        "is listed in the run summary.",
    )
    refit_every_days: int = Field(
        default=7,
        ge=1,
        description="The probabilistic matcher is fitted again when as_of is this many days or more from the "
        "day its stored model was fitted as of (a model fitted after as_of is never used: a backfill refits).",
    )
    refit_drift: float = Field(
        default=0.2,
        gt=0,
        description="The probabilistic matcher is fitted again when the records differ from those at its fit "
        "by more than this share (0.2: 20% more or fewer).",
    )

    @field_validator("one_to_one")
    @classmethod
    def _pairs_of_sources(cls, value: list[list[str]]) -> list[list[str]]:
        for pair in value:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise ValueError(f"one_to_one entries are two different sources, not {pair}")
        return value

    @field_validator("comparisons")
    @classmethod
    def _unique_comparisons(cls, value: list[ComparisonConfig]) -> list[ComparisonConfig]:
        check_unique([c.name for c in value], "comparison")
        return value

    @model_validator(mode="after")
    def _known_blocking_rules(self) -> "DedupeConfig":
        known = BLOCKING_RULES | comparison_rules(
            [
                (c.name, c.kind)
                for c in self.comparisons
                if c.attribute not in COMPARED_FIELDS or c.kind in NUMBER_KINDS
            ]
        )
        unknown = sorted(set(self.blocking_rules or []) - set(known))
        if unknown:
            raise ValueError(f"unknown blocking rules {unknown}; known: {', '.join(known)}")
        return self

    @field_validator("earliest_birth_date")
    @classmethod
    def _earliest_in_the_past(cls, value: date) -> date:
        if value >= date.today():
            raise ValueError(f"{value} is not in the past: every birth date would be implausible")
        return value
