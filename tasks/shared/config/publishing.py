"""Config of publishing: personal fields, the suppression list, destinations."""

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasks.shared.config.checks import check_name
from tasks.shared.contracts import PII_FIELDS, SEGMENT_SCHEMES

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


class ReportConfig(BaseModel):
    """How the day's report (report.md, report.html) reads."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["zh", "en"] = Field(
        default="zh",
        description="Language of the report: zh (Chinese first, English second) or en (English first, Chinese second).",
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
