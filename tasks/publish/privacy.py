"""Privacy rules of every destination: which fields may leave, in what form, and for whom.

Personal fields (config `privacy.pii_fields`) leave the warehouse only in the form a destination
declares: sha256 of the normalized value (what ad platforms match on), masked, or raw by explicit
opt-in. Marketing destinations never receive customers without consent or on the suppression list.
"""

import re

import polars as pl

from tasks.dedupe.normalize import normalize_email, normalize_phone
from tasks.shared.config import DestinationConfig, PipelineConfig
from tasks.shared.contracts import sha256_hex
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse


def normalized_identifier(value: str, region: str = "CN") -> tuple[str, str] | None:
    """(kind, normalized value) of an email, phone or customer id as written in a suppression list."""
    value = value.strip()
    if not value:
        return None
    if "@" in value:
        email = normalize_email(value)
        return None if email is None else ("email", email)
    if re.fullmatch(r"C[0-9a-f]{16}", value):
        return ("customer_id", value)
    phone = normalize_phone(value, region)
    return None if phone is None else ("phone", phone)


def mask_phone(phone: str | None) -> str | None:
    """138****8000 for +8613800138000: the first three and the last four digits of the national number."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    national = digits[2:] if phone.startswith("+86") else digits
    if len(national) <= 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


def mask_email(email: str | None) -> str | None:
    """z***@example.com: the first character of the local part, then the domain."""
    if email is None:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_text(value: str | None) -> str | None:
    """张** for 张伟伟: the first character, the rest starred."""
    if value is None:
        return None
    return value[:1] + "*" * max(len(value) - 1, 1)


def mask_value(field: str, value: str | None) -> str | None:
    """The masked form of a PII field's value."""
    if field == "phone":
        return mask_phone(value)
    if field == "email":
        return mask_email(value)
    return mask_text(None if value is None else str(value))


def check_destination_fields(destination: DestinationConfig, pii: list[str], available: list[str]) -> None:
    """A DataError unless every field exists and every PII field has a declared transform."""
    unknown = [f for f in destination.fields if f not in available]
    if unknown:
        raise DataError(
            f"destination {destination.name!r}: fields {unknown} are not published; available: {available}"
        )
    undeclared = [f for f in destination.fields if f in pii and f not in destination.transforms]
    if undeclared:
        raise DataError(
            f"destination {destination.name!r}: fields {undeclared} are personal data (privacy.pii_fields); "
            "declare how they may leave in transforms: sha256, mask, or raw"
        )


def apply_transforms(frame: pl.DataFrame, destination: DestinationConfig, pii: list[str]) -> pl.DataFrame:
    """frame with each PII field hashed, masked or kept as the destination declares; no other PII column."""
    columns = []
    for name in frame.columns:
        how = destination.transforms.get(name)
        if name in pii and how is None:
            continue  # never leaves without a declared form
        columns.append(transformed(pl.col(name), name, how).alias(name))
    return frame.select(columns)


def transformed(column: pl.Expr, field: str, how: str | None) -> pl.Expr:
    """A column of a PII field's values as they may leave: sha256, mask (as that field), or as they are."""
    if how == "sha256":
        return column.cast(pl.String).map_elements(sha256_hex, return_dtype=pl.String)
    if how == "mask":
        return column.cast(pl.String).map_elements(lambda v: mask_value(field, v), return_dtype=pl.String)
    return column


def load_suppression(wh: Warehouse, config: PipelineConfig) -> int:
    """Refresh the suppression list's entries in audit.suppression (hashes only); return how many."""
    wh.ensure("ops/suppression")
    if config.privacy.suppression_file is None:
        wh.execute("delete from audit.suppression where origin = 'suppression_file'")
        return 0
    path = config.resolve(config.privacy.suppression_file)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise DataError(f"privacy.suppression_file {path}: cannot be read: {error}") from None
    entries = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip().strip(",")
        if not text:
            continue
        parsed = normalized_identifier(text, config.dedupe.default_region)
        if parsed is None:
            raise DataError(
                f"privacy.suppression_file {path}, line {number}: {text!r} is not an email, phone or customer id"
            )
        entries.append((parsed[0], sha256_hex(parsed[1])))
    with wh.transaction():
        wh.execute("delete from audit.suppression where origin = 'suppression_file'")
        for kind, digest in sorted(set(entries)):
            wh.execute(
                "insert into audit.suppression values (?, ?, 'suppression_file', now())", [kind, digest]
            )
    return len(set(entries))
