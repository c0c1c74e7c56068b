"""Config of the act stage: lookalikes, recommendations, audiences with holdout groups, outreach, outcomes."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasks.shared.config.checks import check_name, check_unique

# Schemes an audience or a lookalike seed can name, as published in segment memberships; `lookalike`
# is the act stage's own audiences (act.lookalikes).
AUDIENCE_SCHEMES = ("rfm", "rfm_cn", "tier", "lifecycle", "rules", "cluster", "risk", "lookalike")
SEGMENT_REF = re.compile(r"^(?P<scheme>[a-z_]+):(?P<segment>.+)$")
Channel = Literal["email", "sms", "in_game", "wechat"]


def parse_segment_ref(value: str, *, allow_lookalike: bool = True) -> tuple[str, str]:
    """'rules:churn_warning' -> ('rules', 'churn_warning'), or a clear error naming the schemes."""
    match = SEGMENT_REF.match(value.strip())
    schemes = AUDIENCE_SCHEMES if allow_lookalike else AUDIENCE_SCHEMES[:-1]
    if not match or match["scheme"] not in schemes:
        raise ValueError(
            f"{value!r} is not scheme:segment with a scheme among {', '.join(schemes)} "
            "(e.g. 'tier:high', 'rules:churn_warning', 'rfm:At Risk')"
        )
    return match["scheme"], match["segment"].strip()


class LookalikeConfig(BaseModel):
    """One lookalike audience: the non-members of a seed segment who most resemble its members."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Audience id (a-z, 0-9, _); published as the audience lookalike:<name>.")
    label_en: str = Field(description="English label.")
    label_zh: str = Field(description="Chinese label.")
    seed: str = Field(
        description="The seed segment as scheme:segment, e.g. 'tier:high', 'rules:churn_warning', "
        "'rfm:Champions', 'cluster:2'."
    )
    audience_share: float = Field(
        default=0.10,
        gt=0,
        le=0.5,
        description="Share of the non-members, the most similar first, that make the audience (0.10 = top 10%).",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return check_name(value, "lookalike name")

    @field_validator("seed")
    @classmethod
    def _seed_is_segment(cls, value: str) -> str:
        parse_segment_ref(value, allow_lookalike=False)
        return value


class RecommendationConfig(BaseModel):
    """Game types or products to recommend: item-to-item co-occurrence with time decay (SAR-style)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True, description="Recommend items (off: no recommendations column or export)."
    )
    top_k: int = Field(default=3, ge=1, le=20, description="Items recommended per customer.")
    half_life_days: float = Field(
        default=30.0,
        gt=0,
        description="A play or purchase this many days old counts half as much as one today.",
    )
    similarity: Literal["jaccard", "lift", "cooccurrence"] = Field(
        default="jaccard",
        description="Item-to-item similarity from co-occurrence: jaccard, lift, or the raw count.",
    )
    min_cooccurrence: int = Field(
        default=2, ge=1, description="Two items are similar only when at least this many customers have both."
    )
    evaluation_days: int = Field(
        default=30,
        ge=7,
        le=365,
        description="Time-split evaluation: recommend as of as_of minus this many days, compare with the "
        "items customers took up in the days after.",
    )


class AudienceConfig(BaseModel):
    """An audience to act on: the members of a published segment, a holdout kept apart, reached by channel."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Audience id (a-z, 0-9, _).")
    label_en: str = Field(description="English label.")
    label_zh: str = Field(description="Chinese label.")
    segment: str = Field(
        description="The segment as scheme:segment, e.g. 'rules:churn_warning' or 'lookalike:high_value_lookalike'."
    )
    channels: list[Channel] = Field(
        default=["sms"],
        min_length=1,
        description="Channels in order of preference: email, sms, in_game (device or member id), wechat "
        "(a wechat_openid field). A customer is listed on the first channel with an address and consent.",
    )
    priority: int = Field(
        default=0,
        description="When a customer qualifies for several audiences in one offer window, the highest "
        "priority wins (then the audience listed first).",
    )
    holdout_share: float | None = Field(
        default=None,
        ge=0,
        le=0.5,
        description="Share of the audience kept as a control group (never contacted); empty: act.holdout_share.",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return check_name(value, "audience name")

    @field_validator("segment")
    @classmethod
    def _segment_is_ref(cls, value: str) -> str:
        parse_segment_ref(value)
        return value


DEFAULT_LOOKALIKES = (
    LookalikeConfig(
        name="high_value_lookalike",
        label_en="Lookalikes of high-value customers",
        label_zh="高价值相似客户",
        seed="tier:high",
        audience_share=0.10,
    ),
)

DEFAULT_AUDIENCES = (
    AudienceConfig(
        name="churn_rescue",
        label_en="Churn rescue",
        label_zh="流失挽回",
        segment="rules:churn_warning",
        channels=["sms", "email", "in_game"],
        priority=30,
    ),
    AudienceConfig(
        name="win_back_high_value",
        label_en="Win back high-value",
        label_zh="高价值召回",
        segment="rfm_cn:重要挽留客户",
        channels=["sms", "email"],
        priority=20,
    ),
    AudienceConfig(
        name="high_value_lookalike",
        label_en="High-value lookalikes",
        label_zh="高价值相似客户",
        segment="lookalike:high_value_lookalike",
        channels=["in_game", "email"],
        priority=10,
    ),
)


class ActConfig(BaseModel):
    """Settings of the act stage: who to reach, with what, how many to hold out, and how outcomes are measured."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True, description="Run the act stage (off: no audiences, lookalikes or recommendations)."
    )
    holdout_share: float = Field(
        default=0.05,
        ge=0,
        le=0.5,
        description="Share of each audience kept as a control group: never exported to destinations, "
        "compared with the treated members in the campaign outcomes.",
    )
    holdout_salt: str = Field(
        default="precision-segments",
        min_length=1,
        description="Salt of the holdout hash: the same customer stays in or out of an audience's holdout "
        "every day; a new salt draws new groups.",
    )
    offer_window_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="One offer per customer per window: a customer listed for an audience is not listed "
        "for another within this many days.",
    )
    outcome_windows_days: list[int] = Field(
        default=[30],
        min_length=1,
        description="Days after entering an audience over which conversion, revenue and retention are measured.",
    )
    outcome_lookback_days: int = Field(
        default=180,
        ge=1,
        description="Entries into an audience up to this many days before as_of are measured (windows that have ended).",
    )
    outreach_address: Literal["raw", "sha256", "mask"] = Field(
        default="sha256",
        description="How an address that is personal data (privacy.pii_fields: email, phone) leaves in the "
        "outreach files: sha256 (hashed audiences of ad platforms; the default, like every export), raw (to "
        "send to yourself) or mask (138****8000, to check a list by eye). In-game ids leave as they are.",
    )
    outcome_min_group: int = Field(
        default=30,
        ge=2,
        description="Fewest entries on each side (treated, holdout) for a 95% interval; with fewer the "
        "difference is shown without one (the normal approximation needs more).",
    )
    refit_every_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Refit the lookalike classifiers and the recommender's item similarity (and run their "
        "evaluations) when this many days have passed since their fit day; the days between score the "
        "day's customers with the stored models. A settings change, a refit request or a day before the "
        "fit day refits at once.",
    )
    lookalikes: list[LookalikeConfig] = Field(
        default_factory=lambda: list(DEFAULT_LOOKALIKES), description="Lookalike audiences to build."
    )
    recommendations: RecommendationConfig = Field(
        default_factory=RecommendationConfig, description="Item recommendations."
    )
    audiences: list[AudienceConfig] = Field(
        default_factory=lambda: list(DEFAULT_AUDIENCES),
        description="Audiences acted on: holdout groups, outreach lists and campaign outcomes.",
    )

    @field_validator("outcome_windows_days")
    @classmethod
    def _windows(cls, value: list[int]) -> list[int]:
        if any(days < 1 or days > 365 for days in value):
            raise ValueError(f"outcome windows must be 1 to 365 days; got {value}")
        return sorted(set(value))

    def segment_references(self) -> list[tuple[str, str, str]]:
        """(who, scheme, segment) of every segment the stage reads, when it runs: each audience's segment and
        each lookalike's seed; who names it for a message ("default audience 'x'" when act.audiences is unset)."""
        if not self.enabled:
            return []
        default = "" if "audiences" in self.model_fields_set else "default "
        named = [(f"{default}audience {a.name!r}", a.segment) for a in self.audiences]
        named += [
            (f"lookalike {lookalike.name!r} (its seed)", lookalike.seed) for lookalike in self.lookalikes
        ]
        return [(who, *parse_segment_ref(reference)) for who, reference in named]

    @model_validator(mode="after")
    def _references(self) -> "ActConfig":
        too_long = [days for days in self.outcome_windows_days if days >= self.outcome_lookback_days]
        if too_long:
            raise ValueError(
                f"outcome windows {too_long} are not shorter than outcome_lookback_days "
                f"({self.outcome_lookback_days}): no entry could ever be measured"
            )
        check_unique([lookalike.name for lookalike in self.lookalikes], "lookalike")
        check_unique([audience.name for audience in self.audiences], "audience")
        lookalikes = {lookalike.name for lookalike in self.lookalikes}
        for audience in self.audiences:
            scheme, segment = parse_segment_ref(audience.segment)
            if scheme == "lookalike" and segment not in lookalikes:
                raise ValueError(
                    f"audience {audience.name!r}: lookalike {segment!r} is not among act.lookalikes "
                    f"({', '.join(sorted(lookalikes)) or 'none'})"
                )
        return self
