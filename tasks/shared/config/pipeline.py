"""The whole pipeline's config and how a YAML file becomes one, validated once at the edge.

Every field carries a description; the same text documents the config in the README and in
the Prefect UI. Paths in the file are relative to the file's own folder.
"""

import hashlib
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tasks.shared.config.act import ActConfig
from tasks.shared.config.checks import ConfigError, check_timezone, check_unique
from tasks.shared.config.locations import line_of, yaml_error, yaml_lines
from tasks.shared.config.predict import PredictConfig
from tasks.shared.config.publishing import DestinationConfig, PrivacyConfig, ReportConfig
from tasks.shared.config.sources import ConnectionConfig, SourceConfig
from tasks.shared.config.stages import DedupeConfig, FeatureConfig, SegmentConfig
from tasks.shared.contracts import (
    COMPARED_FIELDS,
    DEFAULT_AMOUNT_SCALE,
    DEFAULT_CURRENCY,
    MAX_AMOUNT_SCALE,
    end_of_day,
)


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
    scheduled_day_lag: int = Field(
        default=1,
        ge=0,
        le=31,
        description=(
            "A scheduled run refreshes the day this many days before its scheduled date (in the config's "
            "time zone): 1, the default, is the last complete day; 0 publishes the current, incomplete "
            "day (marked partial, and recomputed by the next run)."
        ),
    )

    @field_validator("failure_webhook")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"failure_webhook must be an http(s) URL, got {value!r}")
        return value


CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


class CurrencyConfig(BaseModel):
    """Which currency monetary features are in, and the rates that convert other currencies into it."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(
        default=DEFAULT_CURRENCY,
        description="ISO code of the currency features are in (monetary); amounts that state no currency "
        "(no currency mapped, no mark such as ¥ or $ in the amount) are in it.",
    )
    rates: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Units of base per unit of another currency, e.g. {USD: 7.1}: amounts in it are "
        "converted (rounded to the amounts' decimals). Amounts in a currency without a rate are left out of "
        "monetary (never added to other currencies) and counted in the features stage's counts.",
    )

    @field_validator("base")
    @classmethod
    def _code(cls, value: str) -> str:
        return _currency_code(value)

    @field_validator("rates")
    @classmethod
    def _positive_rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        rates = {_currency_code(code): rate for code, rate in value.items()}
        bad = sorted(code for code, rate in rates.items() if not rate.is_finite() or rate <= 0)
        if bad:
            raise ValueError(f"rates must be positive numbers; not: {bad}")
        return rates

    @model_validator(mode="after")
    def _base_has_no_rate(self) -> "CurrencyConfig":
        if self.base in self.rates:
            raise ValueError(f"rates: {self.base} is the base currency (its rate is 1); remove it")
        return self


def _currency_code(value: str) -> str:
    """value as an upper-case ISO 4217 code, else a ValueError."""
    code = value.strip().upper()
    if not CURRENCY_CODE.match(code):
        raise ValueError(f"{value!r} is not a currency code (three letters, e.g. CNY, USD)")
    return code


class LakeConfig(BaseModel):
    """A DuckLake warehouse: its catalog in PostgreSQL, its tables as Parquet files in a folder."""

    model_config = ConfigDict(extra="forbid")

    catalog: ConnectionConfig = Field(
        description=(
            "Where the PostgreSQL catalog's connection URI comes from: {dsn_env: VAR} or {secret_block: NAME} "
            "(never the config file itself)."
        )
    )
    data_path: Path = Field(
        description="Folder of the lake's Parquet files (local or shared), relative to the config file's folder."
    )

    snapshot_days: int = Field(
        default=7,
        ge=0,
        description=(
            "Days older snapshots are kept (time travel reaches that far back); each run expires older ones "
            "and deletes the files only they used (and any a killed run left)."
        ),
    )

    shards: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Split the heavy work of the stages into this many shards, each a flow run of the `stage-shard` "
            "deployment that any worker of the pool runs in a process of its own against the lake: the "
            "matcher's candidate pairs when it compares all of them (by left record), the customer features, "
            "the predict scores and the segments on a day scored with the stored fits (by customer-id hash) "
            "and the export's customer files (by customer-id range); 1 (the default) computes it in the run's "
            "own process. Results are identical either way."
        ),
    )
    shard_start_seconds: int = Field(
        default=120,
        gt=0,
        description=(
            "A shard whose flow run no worker has taken after this long (no free worker) is computed in the "
            "run's own process instead: a busy pool slows a run down, it does not stall it."
        ),
    )
    shard_run_seconds: int = Field(
        default=3600,
        gt=0,
        description=(
            "A shard whose flow run has not finished after this long (its worker or host died) is cancelled and "
            "computed in the run's own process."
        ),
    )

    def dsn(self) -> str:
        """The catalog's connection URI, read now."""
        return self.catalog.dsn("", owner="warehouse.ducklake.catalog")


class WarehouseConfig(BaseModel):
    """The warehouse as a DuckLake catalog (the other form of `warehouse` is a DuckDB file's path)."""

    model_config = ConfigDict(extra="forbid")

    ducklake: LakeConfig = Field(description="The DuckLake catalog and data folder.")


class PipelineConfig(BaseModel):
    """The whole pipeline: warehouse file, time zone, exports folder and sources."""

    model_config = ConfigDict(extra="forbid")

    warehouse: Path | WarehouseConfig = Field(
        description=(
            "DuckDB warehouse file, relative to the config file's folder; or {ducklake: {catalog, data_path}}: "
            "a DuckLake catalog in PostgreSQL with Parquet data (needs the lake environment, envs/lake)."
        )
    )
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
    keep_export_days: int | None = Field(
        default=None,
        ge=1,
        description="Export folders kept: those of the last this many days up to the newest published day "
        "(a publish removes older days' folders; the warehouse keeps their rows). Default: every day's.",
    )
    export_source_ids: bool = Field(
        default=False,
        description="Add source_ids to the customer files: the ids the sources know each customer by "
        "('crm:M0000926;shop:17850'), to match a list back to the CRM or the shop. Off by default: a source "
        "keyed by phone number or e-mail would put personal data into files that hold none.",
    )
    sources: list[SourceConfig] = Field(min_length=1, description="The source systems to extract.")
    amount_scale: int = Field(
        default=DEFAULT_AMOUNT_SCALE,
        ge=0,
        le=MAX_AMOUNT_SCALE,
        description="The most decimals a transaction amount may have (2: cents), for sources that set none: "
        "an amount with more is quarantined, never rounded.",
    )
    currency: CurrencyConfig = Field(
        default_factory=CurrencyConfig, description="Base currency of monetary features and conversion rates."
    )
    features: FeatureConfig = Field(default_factory=FeatureConfig, description="Features stage settings.")
    predict: PredictConfig = Field(default_factory=PredictConfig, description="Predict stage settings.")
    segments: SegmentConfig = Field(default_factory=SegmentConfig, description="Segment stage settings.")
    act: ActConfig = Field(
        default_factory=ActConfig,
        description="Act stage settings: lookalikes, recommendations, audiences with holdouts, outcomes.",
    )
    dedupe: DedupeConfig = Field(default_factory=DedupeConfig, description="Dedupe stage settings.")
    orchestration: OrchestrationConfig = Field(
        default_factory=OrchestrationConfig, description="Timeouts, backfill limits and failure alerts."
    )
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig, description="PII fields and suppression list."
    )
    report: ReportConfig = Field(default_factory=ReportConfig, description="How the day's report reads.")
    destinations: list[DestinationConfig] = Field(
        default_factory=list, description="Extra destinations of each publish: segment files, webhooks."
    )
    base_dir: Path = Field(default=Path("."), exclude=True, description="Folder of the config file.")
    file: Path | None = Field(
        default=None,
        exclude=True,
        description="The config file (for flow runs this run starts, e.g. shards).",
    )

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
    def _sources_amount_scale(self) -> "PipelineConfig":
        # each transactions source carries its own scale, so that changing the pipeline's re-stages it
        for source in self.sources:
            if source.kind == "transactions" and source.amount_scale is None:
                source.amount_scale = self.amount_scale
        return self

    @model_validator(mode="after")
    def _act_rules_known(self) -> "PipelineConfig":
        """An audience or a lookalike seed of scheme rules names a rule of segments.rules (an RFM name is checked
        by `segments check`: tasks.shared.rfm_names.unknown_rfm_segments)."""
        rules = [rule.name for rule in self.segments.rules]
        for who, scheme, segment in self.act.segment_references():
            if scheme == "rules" and segment not in rules:
                raise ValueError(
                    f"act: {who} names 'rules:{segment}', but segments.rules has no rule {segment!r} (it has: "
                    f"{', '.join(rules) or 'none'}): setting segments.rules replaces the default rules; list the ones kept"
                )
        return self

    @model_validator(mode="after")
    def _source_priority_known(self) -> "PipelineConfig":
        unknown = [n for n in self.dedupe.source_priority if n not in {s.name for s in self.sources}]
        if unknown:
            raise ValueError(f"dedupe.source_priority names unknown sources: {unknown}")
        return self

    @model_validator(mode="after")
    def _dedupe_names_known(self) -> "PipelineConfig":
        customers = [s for s in self.sources if s.kind == "customers"]
        names = {s.name for s in customers}
        for pair in self.dedupe.one_to_one:
            unknown = [n for n in pair if n not in names]
            if unknown:
                raise ValueError(
                    f"dedupe.one_to_one names {unknown}, not customers sources (those are {sorted(names)})"
                )
        attributes = set(COMPARED_FIELDS) | {c for s in customers for c in s.match_columns}
        for comparison in self.dedupe.comparisons:
            if comparison.attribute not in attributes:
                raise ValueError(
                    f"dedupe.comparisons {comparison.name!r}: {comparison.attribute!r} is neither a canonical "
                    f"customer field nor a match_columns name of a customers source (known: {sorted(attributes)})"
                )
        compared = {c.attribute for c in self.dedupe.comparisons}
        for source in customers:
            unread = sorted(set(source.match_columns) - compared)
            if unread:
                raise ValueError(
                    f"source {source.name!r}: match_columns {unread} are compared by no dedupe.comparisons entry; "
                    f"add one (e.g. {{name: {unread[0]}, kind: string}}) or remove them"
                )
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
        """The DuckDB file, or a lake's data folder: runs keep their lock and work folders beside it."""
        if isinstance(self.warehouse, WarehouseConfig):
            return self.resolve(self.warehouse.ducklake.data_path)
        return self.resolve(self.warehouse)

    @property
    def lake(self) -> "LakeConfig | None":
        """The DuckLake settings when the warehouse is a lake, else None."""
        return self.warehouse.ducklake if isinstance(self.warehouse, WarehouseConfig) else None

    def lake_catalog(self) -> str | None:
        """A lake's catalog URI, read now (for its writer lock); None for a DuckDB file."""
        return None if self.lake is None else self.lake.dsn()

    @property
    def exports_path(self) -> Path:
        return self.resolve(self.exports)

    def cutoff(self, as_of: date) -> datetime:
        """The exclusive end of day as_of in the pipeline's time zone: data at or after it is not used."""
        return end_of_day(as_of, self.timezone)

    def today(self) -> date:
        """Today's date in the pipeline's time zone."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    def source(self, name: str) -> SourceConfig:
        """The source called name."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    def inputs_settings(self) -> dict[str, Any]:
        """Settings outside the stage configs that change what the models' inputs mean (currency, time zone):
        part of the predict and cluster fits' settings hashes, so a change fits them again."""
        return {"currency": self.currency.model_dump(mode="json"), "timezone": self.timezone}

    def config_hash(self) -> str:
        """A short hash of the validated config, recorded with every published version."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def load_config(path: str | Path) -> PipelineConfig:
    """Read and validate a YAML config file; raise ConfigError naming the file, line and field on any problem."""
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        lines, repeated = yaml_lines(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: cannot be read as UTF-8 (byte {exc.start}); save the config as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} {yaml_error(exc, text)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    if repeated:
        raise ConfigError(
            f"{path}: invalid config\n"
            + "\n".join(
                f"  - line {line}, {named_path(where, raw)}: repeated (first at line {first}); keep one"
                for line, where, first in repeated
            )
        )
    try:
        return PipelineConfig.model_validate({**raw, "base_dir": path.parent, "file": path.resolve()})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid config\n{format_errors(exc, raw, lines)}") from None


def named_path(location: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """A place in the config as dotted text, sources named by their name rather than their index."""
    parts = [str(part) for part in location]
    if len(parts) >= 2 and parts[0] == "sources" and parts[1].isdigit():
        sources, index = raw.get("sources") or [], int(parts[1])
        if index < len(sources) and isinstance(sources[index], dict) and "name" in sources[index]:
            parts[1] = str(sources[index]["name"])
    return ".".join(parts)


# What a section that holds nothing is, most often: its keys lost their indent.
EMPTY_SECTION = " (it is empty here: are the lines that belong under it indented?)"


def format_errors(
    exc: ValidationError, raw: dict[str, Any], lines: dict[tuple[str, ...], int] | None = None
) -> str:
    """One line per problem, with its line in the file when known and sources named by their name."""
    out = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        line = line_of(lines, error["loc"], message, raw) if lines is not None else None
        if error.get("input", ...) is None and error["type"] in ("model_type", "dict_type", "list_type"):
            message += EMPTY_SECTION
        where = named_path(error["loc"], raw)
        if line is None:
            out.append(f"  - {where or '(top level)'}: {message}")
        else:
            out.append(f"  - line {line}, {where}: {message}" if where else f"  - line {line}: {message}")
    return "\n".join(out)
