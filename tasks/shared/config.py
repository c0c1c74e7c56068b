"""Pipeline configuration: one YAML file, validated once at the edge into typed objects.

Every field carries a description; the same text documents the config in the README and in
the Prefect UI. Paths in the file are relative to the file's own folder.
"""

import hashlib
import json
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SourceKind = Literal["customers", "transactions", "events", "feedback"]
SourceFormat = Literal["csv", "parquet", "jsonl", "xlsx", "postgres"]
FILE_FORMATS = ("csv", "parquet", "jsonl", "xlsx")

# Canonical fields per source kind, with the DuckDB type each is cast to in staging.
CANONICAL_FIELDS: dict[str, dict[str, str]] = {
    "customers": {
        "source_id": "varchar",
        "full_name": "varchar",
        "given_name": "varchar",
        "family_name": "varchar",
        "gender": "varchar",
        "birth_date": "date",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "national_id": "varchar",
        "address": "varchar",
        "city": "varchar",
        "province": "varchar",
        "postcode": "varchar",
        "country": "varchar",
        "signup_ts": "timestamptz",
        "updated_at": "timestamptz",
        "marketing_consent": "boolean",
    },
    "transactions": {
        "txn_id": "varchar",
        "order_id": "varchar",
        "customer_ref": "varchar",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "ts": "timestamptz",
        "amount": "decimal(18,2)",
        "currency": "varchar",
        "status": "varchar",
        "category": "varchar",
        "channel": "varchar",
    },
    "events": {
        "event_id": "varchar",
        "customer_ref": "varchar",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "ts": "timestamptz",
        "event_type": "varchar",
        "category": "varchar",
        "duration_s": "double",
        "value": "double",
    },
    "feedback": {
        "feedback_id": "varchar",
        "customer_ref": "varchar",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "ts": "timestamptz",
        "score": "double",
        "text": "varchar",
        "channel": "varchar",
    },
}

# Fields a row cannot be staged without; rows missing them go to quarantine.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("source_id",),
    "transactions": ("ts", "amount"),
    "events": ("ts",),
    "feedback": ("ts",),
}

# Fields that identify the customer behind a transaction, event or feedback row.
IDENTIFIER_FIELDS = ("email", "phone", "device_id")

# Canonical transaction statuses. Failed and pending payments never count as purchases;
# refunded and cancelled rows are netted into their order as negative amounts.
TRANSACTION_STATUSES = ("paid", "refunded", "cancelled", "failed", "pending")

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


PG_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class ConnectionConfig(BaseModel):
    """Where a database source's credentials come from: never the config file itself."""

    model_config = ConfigDict(extra="forbid")

    dsn_env: str | None = Field(
        default=None,
        description="Environment variable holding the connection URI (postgresql://user:pw@host/db).",
    )
    secret_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding the connection URI."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "ConnectionConfig":
        if (self.dsn_env is None) == (self.secret_block is None):
            raise ValueError(
                "give exactly one of dsn_env (an environment variable) or secret_block (a Prefect Secret)"
            )
        return self

    def dsn(self, source: str) -> str:
        """The connection URI, read now from the environment or the Prefect Secret block."""
        import os

        if self.dsn_env is not None:
            value = os.environ.get(self.dsn_env)
            if not value:
                raise ConfigError(f"source {source!r}: environment variable {self.dsn_env} is not set")
            return value
        from prefect.blocks.system import Secret

        try:
            return Secret.load(self.secret_block).get()
        except ValueError as exc:
            raise ConfigError(
                f"source {source!r}: cannot load Prefect Secret block {self.secret_block!r}: {exc}"
            ) from None


class SourceConfig(BaseModel):
    """One source system: where its files are, how to read them, how its columns map to canonical fields."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Short lowercase name, used for raw.<name> and lineage (a-z, 0-9, _).")
    kind: SourceKind = Field(description="What one row is: customers, transactions, events or feedback.")
    format: SourceFormat = Field(
        description="csv, parquet, jsonl, xlsx (files) or postgres (a table or query)."
    )
    path: str | None = Field(
        default=None,
        description="Glob of the source files, relative to the config file's folder (file formats).",
    )
    connection: ConnectionConfig | None = Field(default=None, description="Credentials of a database source.")
    table: str | None = Field(default=None, description="Database table (schema.table) of a database source.")
    query: str | None = Field(
        default=None, description="A SELECT run in the source database, instead of table."
    )
    watermark: str | None = Field(
        default=None,
        description="Column of a database source that grows with every change (updated_at): each run loads "
        "only rows past the highest value already loaded, and a row with a known id replaces the old one.",
    )
    max_bad_row_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="If a load quarantines a larger share of its rows, the run fails before anything is published.",
    )
    encoding: str = Field(
        default="utf-8",
        description="Text encoding of csv files (utf-8, gbk/gb18030, big5, ...). A BOM is stripped.",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra reader options passed to DuckDB's reader, e.g. {delim: ';'} for csv.",
    )
    columns: dict[str, str] = Field(
        description="Canonical field -> DuckDB SQL expression over the source's own columns.",
    )
    customer_source: str | None = Field(
        default=None,
        description="Name of the customers source that customer_ref points into. Without it, each "
        "distinct customer_ref is a customer of its own (merged by identifiers where they match).",
    )
    timezone: str | None = Field(
        default=None,
        description="Time zone of timestamps written without an offset in this source; defaults to "
        "the pipeline's timezone.",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return check_name(value, "source name")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _location_fits_format(self) -> "SourceConfig":
        if self.format in FILE_FORMATS:
            if not self.path:
                raise ValueError(f"a {self.format} source needs path (a glob of its files)")
            if self.connection or self.table or self.query or self.watermark:
                raise ValueError("connection, table, query and watermark are for database sources only")
        else:
            if self.connection is None:
                raise ValueError("a postgres source needs connection: {dsn_env: VAR} or {secret_block: NAME}")
            if (self.table is None) == (self.query is None):
                raise ValueError("a postgres source needs exactly one of table or query")
            if self.table is not None and not PG_IDENTIFIER.match(self.table):
                raise ValueError(f"table {self.table!r} must be a plain name or schema.name")
            if self.watermark is not None and not PG_IDENTIFIER.match(self.watermark):
                raise ValueError(f"watermark {self.watermark!r} must be a plain column name")
            if self.query is not None and (
                ";" in self.query or not self.query.lstrip().lower().startswith(("select", "with"))
            ):
                raise ValueError("query must be one SELECT statement (no ';')")
        return self

    def referenced_columns(self) -> set[str]:
        """The source's own columns that the mapping expressions read (top-level names)."""
        return set().union(*(expression_columns(e) for e in self.columns.values()))

    @model_validator(mode="after")
    def _columns_fit_kind(self) -> "SourceConfig":
        allowed = CANONICAL_FIELDS[self.kind]
        unknown = sorted(set(self.columns) - set(allowed))
        if unknown:
            raise ValueError(
                f"columns {unknown} are not canonical fields of a {self.kind} source; "
                f"allowed: {', '.join(allowed)}"
            )
        missing = [f for f in REQUIRED_FIELDS[self.kind] if f not in self.columns]
        if missing:
            raise ValueError(f"a {self.kind} source must map {missing}")
        if self.kind != "customers" and not (
            "customer_ref" in self.columns or any(f in self.columns for f in IDENTIFIER_FIELDS)
        ):
            raise ValueError(
                f"a {self.kind} source must map customer_ref or one of {list(IDENTIFIER_FIELDS)} "
                "to know whose rows these are"
            )
        if self.customer_source is not None and "customer_ref" not in self.columns:
            raise ValueError("customer_source is set but customer_ref is not mapped")
        for field, expression in self.columns.items():
            problem = check_expression(expression)
            if problem:
                raise ValueError(f"columns.{field}: {problem}")
        return self


class FeatureConfig(BaseModel):
    """Settings of the features stage."""

    model_config = ConfigDict(extra="forbid")

    session_event_types: list[str] = Field(
        default_factory=lambda: ["session"],
        description="event_type values that count as a session (game played, visit).",
    )


class RuleSegmentConfig(BaseModel):
    """A business-defined segment: a rule over feature names (see tasks/rules.py for the language)."""

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
        from tasks.shared.rules import RuleError, compile_rule

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
        "birth date, address, city and partial identifiers agree strongly (Fellegi-Sunter, see tasks/match.py).",
    )
    match_threshold: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="Probabilistic links need at least this match probability (higher: fewer false merges).",
    )
    blocking_rules: list[str] | None = Field(
        default=None,
        description="Which blocking rules of tasks/match.py propose candidate pairs (default: all of them).",
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
        from tasks.dedupe.matcher import BLOCKING_RULES

        unknown = sorted(set(value or []) - set(BLOCKING_RULES))
        if unknown:
            raise ValueError(f"unknown blocking rules {unknown}; known: {', '.join(BLOCKING_RULES)}")
        return value


class OrchestrationConfig(BaseModel):
    """How runs behave under Prefect: time limits, backfill limits, failure alerts."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: int = Field(
        default=4 * 3600,
        gt=0,
        description="A daily refresh (one as_of, waiting for the warehouse lock included) fails after this long.",
    )
    backfill_max_days: int = Field(
        default=366, gt=0, description="Longest date range one backfill run may cover, in days."
    )
    failure_webhook: str | None = Field(
        default=None,
        description="URL that receives a JSON POST with the run's summary when a flow run fails.",
    )

    @field_validator("failure_webhook")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"failure_webhook must be an http(s) URL, got {value!r}")
        return value


# Segment schemes of published.segment_changes (see sql/published/segment_memberships.sql).
SEGMENT_SCHEMES = ("rfm", "rfm_cn", "tier", "lifecycle", "rules", "cluster")
PII_FIELDS = ("email", "phone", "full_name", "birth_date", "national_id", "address", "device_id")
FieldTransform = Literal["raw", "sha256", "mask"]


class PrivacyConfig(BaseModel):
    """Which fields are personal data, and who must never appear in a marketing destination."""

    model_config = ConfigDict(extra="forbid")

    pii_fields: list[str] = Field(
        default_factory=lambda: list(PII_FIELDS),
        description="Fields classified as personal data (PII): a destination receives them only as it declares "
        "in transforms (sha256 or mask; raw only when it says raw).",
    )
    suppression_file: Path | None = Field(
        default=None,
        description="Text file, one email, phone or customer id per line (# comments allowed), relative to the "
        "config file: these people never appear in a marketing destination.",
    )


class DestinationConfig(BaseModel):
    """Where published segments go besides the warehouse: files in the export version, or a webhook."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Short lowercase name; files go to exports/<as_of>/<name>/.")
    kind: Literal["files", "webhook"] = Field(description="files (CSV with BOM and/or Parquet) or webhook.")
    purpose: Literal["marketing", "analytics"] = Field(
        default="analytics",
        description="marketing: customers without marketing consent or on the suppression list are left out.",
    )
    mode: Literal["full", "changes"] = Field(
        default="full",
        description="full: every member; changes: who entered or exited a segment since the previous as_of.",
    )
    scheme: str | None = Field(
        default=None,
        description="Segment scheme to export (rfm, rfm_cn, tier, lifecycle, rules, cluster); files: one file "
        "per segment. Empty: all schemes (changes) or one file of all customers (full).",
    )
    formats: list[Literal["csv", "parquet"]] = Field(
        default_factory=lambda: ["csv", "parquet"], description="File formats (files destinations)."
    )
    fields: list[str] = Field(
        default_factory=lambda: ["customer_id"],
        description="Fields the destination may receive besides as_of, scheme and segment.",
    )
    transforms: dict[str, FieldTransform] = Field(
        default_factory=dict,
        description="How a PII field in fields is sent: sha256 (of the normalized value, as ad platforms "
        "match), mask (138****8000) or raw (explicit opt-in).",
    )
    url: str | None = Field(default=None, description="Webhook URL (webhook destinations).")
    batch_size: int = Field(default=500, gt=0, description="Changes per webhook POST.")
    max_attempts: int = Field(default=5, ge=1, le=20, description="Tries per webhook batch before failing.")
    backoff_seconds: float = Field(
        default=1.0, ge=0, description="Webhook retry wait: this, doubled after each failed try."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="Webhook request time limit.")

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return check_name(value, "destination name")

    @model_validator(mode="after")
    def _consistent(self) -> "DestinationConfig":
        if self.kind == "webhook":
            if not self.url or not re.match(r"^https?://[^\s/]+", self.url):
                raise ValueError("a webhook destination needs url: an http(s) URL")
            if self.mode != "changes":
                raise ValueError("a webhook destination sends changes: set mode: changes")
        elif self.url is not None:
            raise ValueError("url is for webhook destinations only")
        if self.scheme is not None and self.scheme not in SEGMENT_SCHEMES:
            raise ValueError(f"unknown scheme {self.scheme!r}; schemes: {', '.join(SEGMENT_SCHEMES)}")
        stray = sorted(set(self.transforms) - set(self.fields))
        if stray:
            raise ValueError(f"transforms for fields not in fields: {stray}")
        return self


class PipelineConfig(BaseModel):
    """The whole pipeline: warehouse file, time zone, exports folder and sources."""

    model_config = ConfigDict(extra="forbid")

    warehouse: Path = Field(description="DuckDB warehouse file, relative to the config file's folder.")
    memory_limit: str | None = Field(
        default=None,
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB memory limit (e.g. 4GB): larger work spills to disk. Default: DuckDB's, 80% of RAM.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone that defines calendar days (as_of) and reads timestamps without an offset.",
    )
    exports: Path = Field(
        default=Path("exports"), description="Folder for published files, relative to the config file."
    )
    sources: list[SourceConfig] = Field(min_length=1, description="The source systems to extract.")
    features: FeatureConfig = Field(default_factory=FeatureConfig, description="Features stage settings.")
    segments: SegmentConfig = Field(default_factory=SegmentConfig, description="Segment stage settings.")
    dedupe: DedupeConfig = Field(default_factory=DedupeConfig, description="Dedupe stage settings.")
    orchestration: OrchestrationConfig = Field(
        default_factory=OrchestrationConfig, description="Timeouts, backfill limits and failure alerts."
    )
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig, description="PII fields and suppression list."
    )
    destinations: list[DestinationConfig] = Field(
        default_factory=list, description="Extra destinations of each publish: segment files, webhooks."
    )
    base_dir: Path = Field(default=Path("."), exclude=True, description="Folder of the config file.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _sources_consistent(self) -> "PipelineConfig":
        check_unique([s.name for s in self.sources], "source")
        kinds = {s.name: s.kind for s in self.sources}
        for source in self.sources:
            target = source.customer_source
            if target is not None and kinds.get(target) != "customers":
                raise ValueError(
                    f"source {source.name!r}: customer_source {target!r} is not a customers source "
                    f"(customers sources: {[n for n, k in kinds.items() if k == 'customers']})"
                )
        return self

    @model_validator(mode="after")
    def _source_priority_known(self) -> "PipelineConfig":
        unknown = [n for n in self.dedupe.source_priority if n not in {s.name for s in self.sources}]
        if unknown:
            raise ValueError(f"dedupe.source_priority names unknown sources: {unknown}")
        return self

    @model_validator(mode="after")
    def _destinations_unique(self) -> "PipelineConfig":
        check_unique([d.name for d in self.destinations], "destination")
        return self

    def resolve(self, path: Path) -> Path:
        """An absolute path for a path written in the config."""
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse)

    @property
    def exports_path(self) -> Path:
        return self.resolve(self.exports)

    def cutoff(self, as_of: date) -> datetime:
        """The exclusive end of day as_of in the pipeline's time zone: data at or after it is not used."""
        return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=ZoneInfo(self.timezone))

    def today(self) -> date:
        """Today's date in the pipeline's time zone."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    def source(self, name: str) -> SourceConfig:
        """The source called name."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    def config_hash(self) -> str:
        """A short hash of the validated config, recorded with every published version."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def check_timezone(value: str) -> str:
    """value if it names an IANA time zone, else a ValueError."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
    return value


@lru_cache(maxsize=1024)
def serialize_expression(expression: str) -> str:
    """DuckDB's parse tree (JSON) of `select <expression>`, parsed once per distinct expression."""
    with duckdb.connect() as con:
        return con.execute("select json_serialize_sql(?)", [f"select {expression}\n"]).fetchall()[0][0]


def check_expression(expression: str) -> str | None:
    """None if expression is one scalar SQL expression, else what is wrong with it.

    Mapping expressions are SQL by design (they adapt a source without code), so they are
    parsed by DuckDB and must be a single expression without subqueries or table access.
    """
    if not expression.strip():
        return "empty expression"
    parsed = serialize_expression(expression)
    tree = json.loads(parsed)
    if tree.get("error"):
        return f"not a valid SQL expression: {expression!r} ({tree.get('error_message')})"
    statements = tree["statements"]
    node = statements[0]["node"] if len(statements) == 1 else None
    if node is None or node.get("type") != "SELECT_NODE":
        return f"not a single expression: {expression!r}"
    if len(node["select_list"]) != 1 or node.get("from_table", {}).get("type") != "EMPTY":
        return f"not a single expression: {expression!r}"
    if node["select_list"][0].get("alias"):
        return f"not a single expression (an alias or a second word?): {expression!r}"
    if any(key in parsed for key in ('"SUBQUERY"', '"TABLE_FUNCTION"', '"BASE_TABLE"')):
        return f"subqueries and table access are not allowed in a mapping: {expression!r}"
    return None


def expression_columns(expression: str) -> set[str]:
    """Top-level column names an expression reads (`user.member_id` reads `user`)."""
    parsed = serialize_expression(expression)
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class") == "COLUMN_REF" and node.get("column_names"):
                found.add(node["column_names"][0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(parsed))
    return found


def load_config(path: str | Path) -> PipelineConfig:
    """Read and validate a YAML config file; raise ConfigError naming the file and field on any problem."""
    path = Path(path).expanduser().resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: cannot be read as UTF-8 (byte {exc.start}); save the config as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return PipelineConfig.model_validate({**raw, "base_dir": path.parent})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid config\n{format_errors(exc, raw)}") from None


def format_errors(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line per problem, with sources named by their name rather than their index."""
    lines = []
    for error in exc.errors():
        location = list(error["loc"])
        if len(location) >= 2 and location[0] == "sources" and isinstance(location[1], int):
            sources = raw.get("sources") or []
            index = location[1]
            if index < len(sources) and isinstance(sources[index], dict) and "name" in sources[index]:
                location[1] = sources[index]["name"]
        where = ".".join(str(part) for part in location) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)
