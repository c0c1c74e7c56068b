"""Lookups of normalized values (raw -> norm, null: unusable or a placeholder) for the core layer.

Contact lookups (email, phone, device id) map every distinct raw value staged in any source;
core.customer_records and the core facts join them. Attribute lookups (names, places, addresses, birth
dates) map every distinct raw value staged in staging.customers. Contact values, names, places and
addresses are normalized once per distinct value and kept across runs: a run normalizes only values it
has not seen, and a change of CONTACT_VERSION (the contact lookups) or LOOKUP_VERSION (the others; bump one
when a normalizer's output changes) recomputes the lookups it versions, as does, for the contact lookups, a
change of the settings they are normalized with (region, placeholders, email provider rules). A new contact
version also rebuilds what the facts' records were mapped with (tasks.features.activity, the observations):
the first run after it costs about a full refresh of dedupe and the activity roll-up. Birth dates depend on
the config (date_order) and on as_of, so their lookup is rebuilt every run (few distinct values).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import date

import polars as pl

from tasks.dedupe.birth_dates import normalize_birth_date
from tasks.dedupe.normalize import (
    map_distinct,
    normalize_address,
    normalize_devices,
    normalize_emails_with_rules,
    normalize_name,
    normalize_phone,
    normalize_phones,
    normalize_place,
    pinyin_key,
)
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse, quote_identifier

LOOKUP_VERSION = (
    "3"  # names, places, addresses. 2: place, court, circle … abbreviated in addresses; 3: ø, ß … folded
)
# emails, phones, devices. 2: a phone whose digits are not all written is no phone; 3: full-width emails folded,
# a phone field of two numbers unusable, invisible characters (and an email's spaces) dropped
CONTACT_VERSION = "3"
# The staged field each contact lookup normalizes, in the order of contact_normalizers.
CONTACT_COLUMNS = ("email", "phone", "device_id")
# Lookup table -> the model of the staged raw values it has not normalized yet (sql/core/lookups/).
RAW_VALUES = {
    "core.name_lookup": "core/lookups/name_values",
    "core.place_lookup": "core/lookups/place_values",
    "core.address_lookup": "core/lookups/address_values",
}


def contact_normalizers(config: PipelineConfig) -> dict[str, Callable[[pl.Series], pl.DataFrame]]:
    """core.{email,phone,device}_lookup -> raw values to their lookup rows (raw, norm; null: unusable)."""
    region = config.dedupe.default_region
    typed = [p.strip() for p in config.dedupe.placeholders]
    # a configured placeholder is compared in normalized form: 13912345678 matches +8613912345678
    placeholders = frozenset(
        [p.lower() for p in typed] + [e164 for p in typed if (e164 := normalize_phone(p, region)) is not None]
    )
    providers = tuple(config.dedupe.email_provider_rules)
    return {
        "core.email_lookup": lambda raw: pl.DataFrame(
            {"raw": raw, "norm": normalize_emails_with_rules(raw, placeholders, providers)}
        ),
        "core.phone_lookup": lambda raw: pl.DataFrame(
            {"raw": raw, "norm": normalize_phones(raw, region, placeholders)}
        ),
        "core.device_lookup": lambda raw: pl.DataFrame(
            {"raw": raw, "norm": normalize_devices(raw, placeholders)}
        ),
    }


def contact_version(config: PipelineConfig) -> str:
    """The version the contact lookups' rows are normalized with: CONTACT_VERSION and the settings they read."""
    dedupe = config.dedupe
    settings = [dedupe.default_region, list(dedupe.placeholders), list(dedupe.email_provider_rules)]
    return f"{CONTACT_VERSION}:{hashlib.sha256(json.dumps(settings, ensure_ascii=False).encode()).hexdigest()[:16]}"


def record_mapping(config: PipelineConfig) -> list[object]:
    """What maps a staged fact to its customer record and keys besides the core fact views: the contact
    lookups' version (their normalizers and settings), and which customers source each source's
    customer_ref points into. What is kept from the facts (the observations, the activity roll-up) is
    rebuilt when it changes."""
    return [
        contact_version(config),
        sorted((source.name, source.kind, source.customer_source or "") for source in config.sources),
    ]


def build_lookups(wh: Warehouse, config: PipelineConfig) -> dict[str, int]:
    """Bring core.{email,phone,device}_lookup up to date with every source's staged values (raw -> norm,
    null: unusable); return the values normalized per table."""
    version = contact_version(config)
    counts = {}
    for (table, normalize), column in zip(contact_normalizers(config).items(), CONTACT_COLUMNS, strict=True):
        raw_values = wh.model_sql("core/contact_values", {"column": column, "lookup": table})
        counts[table] = refresh_lookup(wh, table, normalize, version, raw_values)
    return counts


def build_source_links(wh: Warehouse, config: PipelineConfig) -> int:
    """Write core.source_links: which customers source each source's customer_ref points into; return its rows."""
    return wh.build(
        "core.source_links",
        "core/source_links",
        {
            "sources": [source.name for source in config.sources],
            "customer_sources": [source.customer_source for source in config.sources],
        },
    )


def _names(raw: pl.Series) -> pl.DataFrame:
    norm = map_distinct(raw, normalize_name)
    return pl.DataFrame({"raw": raw, "norm": norm, "key": map_distinct(norm, pinyin_key)})


def _single(normalize: Callable[[str], str | None]) -> Callable[[pl.Series], pl.DataFrame]:
    return lambda raw: pl.DataFrame({"raw": raw, "norm": map_distinct(raw, normalize)})


NORMALIZERS: dict[str, Callable[[pl.Series], pl.DataFrame]] = {
    "core.name_lookup": _names,
    "core.place_lookup": _single(normalize_place),
    "core.address_lookup": _single(normalize_address),
}


def refresh_lookup(
    wh: Warehouse,
    table: str,
    normalize: Callable[[pl.Series], pl.DataFrame],
    version: str,
    raw_values: str,
) -> int:
    """Add the staged raw values table has not normalized yet (raw_values: a select of them, given the
    table) with normalize; all of them when a row has another version. Returns how many were added."""
    versioned = wh.table_exists(table) and "version" in wh.columns(table)
    # a table written by older code (without versions) is rebuilt, like one of another version
    current = versioned and wh.scalar(
        f"select count(*) = 0 from {quote_identifier(table)} where version is distinct from ?", [version]
    )
    if not current:  # start again from an empty table of this version
        empty = normalize(pl.Series("raw", [], dtype=pl.String))
        wh.write_frame(table, empty.with_columns(version=pl.lit(version)))
    raw = wh.frame(raw_values)["raw"].cast(pl.String)
    fresh = normalize(raw).with_columns(version=pl.lit(version))
    if not current:
        # written whole: rows inserted after an empty table's create in a DuckDB 2.0 transaction can be hidden
        wh.write_frame(table, fresh)
    elif fresh.height:
        with wh.registered("_fresh", fresh):
            wh.execute(f"insert into {quote_identifier(table)} by name select * from _fresh")
    return fresh.height


def build_attribute_lookups(wh: Warehouse, config: PipelineConfig, latest: date) -> dict[str, int]:
    """Bring core.{name,place,address,birth_date}_lookup up to date with staging.customers.

    latest: the last plausible birth date (the as_of day): later dates are data errors.
    Returns the number of values normalized per table.
    """
    counts = {
        table: refresh_lookup(
            wh, table, NORMALIZERS[table], LOOKUP_VERSION, wh.model_sql(RAW_VALUES[table], {"lookup": table})
        )
        for table in RAW_VALUES
    }
    births = wh.frame("select distinct birth_date as raw from staging.customers where birth_date is not null")
    order, earliest = config.dedupe.date_order, config.dedupe.earliest_birth_date
    norm = map_distinct(births["raw"], lambda d: normalize_birth_date(d, order, latest, earliest), pl.Date)
    counts["core.birth_date_lookup"] = wh.write_frame(
        "core.birth_date_lookup", births.with_columns(norm=norm)
    )
    return counts
