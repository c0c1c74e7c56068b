"""Config of the dedupe, features and segment stages."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasks.shared.config.checks import check_name, check_unique
from tasks.shared.contracts import BLOCKING_RULES
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
    random_state: int = Field(default=0, description="Seed of KMeans, so clusters are reproducible.")
    rules: list[RuleSegmentConfig] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        description="Rule segments; defaults: 5+ games in the last 90 days; 3+ games in 180 days and never paid.",
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
        default=30, gt=0, description="Lifecycle: a first purchase this recent makes a new customer."
    )
    active_days: int = Field(
        default=30,
        gt=0,
        description="Lifecycle: activity (a purchase, session or event) this recent is active.",
    )
    sleeping_days: int = Field(
        default=90,
        gt=0,
        description="Lifecycle: last activity older than active_days up to this is sleeping; older is churned.",
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
    blocking_rules: list[str] | None = Field(
        default=None,
        description="Which blocking rules (tasks/shared/contracts.py) propose candidate pairs (default: all of them).",
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

    @field_validator("blocking_rules")
    @classmethod
    def _known_blocking_rules(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or []) - set(BLOCKING_RULES))
        if unknown:
            raise ValueError(f"unknown blocking rules {unknown}; known: {', '.join(BLOCKING_RULES)}")
        return value
