"""Lookups of normalized customer attributes (names, places, addresses, birth dates) for core.customer_records.

Each lookup maps every distinct raw value staged in staging.customers to its normalized form
(null: unusable or a placeholder). Names, places and addresses are normalized once per distinct
value and kept across runs: a run normalizes only values it has not seen, and a change of
LOOKUP_VERSION (bump it when a normalizer's output changes) recomputes them all. Birth dates depend
on the config (date_order) and on as_of, so their lookup is rebuilt every run (few distinct values).
"""

from collections.abc import Callable
from datetime import date

import polars as pl

from tasks.dedupe.normalize import (
    map_distinct,
    normalize_address,
    normalize_birth_date,
    normalize_name,
    normalize_place,
    pinyin_key,
)
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse, quote_identifier

LOOKUP_VERSION = "1"
# The name of a customers row: full_name, else family and given name (the normalizer drops the space
# between Han characters, so 张 + 三 reads 张三). customer_records.sql uses the same expression.
NAME_SQL = "coalesce(full_name, nullif(concat_ws(' ', family_name, given_name), ''))"
RAW_VALUES = {
    "core.name_lookup": f"select {NAME_SQL} as raw from staging.customers",
    "core.place_lookup": "select city as raw from staging.customers union all select province from staging.customers",
    "core.address_lookup": "select address as raw from staging.customers",
}


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


def refresh_lookup(wh: Warehouse, table: str) -> int:
    """Add the staged raw values table has not normalized yet (all of them after a version change); return how many."""
    name = quote_identifier(table)
    versioned = wh.table_exists(table) and "version" in wh.columns(table)
    # a table written by older code (without versions) is rebuilt, like one of another version
    current = versioned and wh.scalar(
        f"select count(*) = 0 from {name} where version is distinct from ?", [LOOKUP_VERSION]
    )
    known = f"select raw from {name}" if current else "select null::varchar as raw where false"
    raw = wh.frame(
        f"select distinct raw from ({RAW_VALUES[table]}) where raw is not null and raw not in ({known})"
    )["raw"].cast(pl.String)
    fresh = NORMALIZERS[table](raw).with_columns(version=pl.lit(LOOKUP_VERSION))
    if not current:
        wh.write_frame(table, fresh)
    elif fresh.height:
        wh.con.register("_fresh", fresh)
        try:
            wh.execute(f"insert into {name} by name select * from _fresh")
        finally:
            wh.con.unregister("_fresh")
    return fresh.height


def build_attribute_lookups(wh: Warehouse, config: PipelineConfig, latest: date) -> dict[str, int]:
    """Bring core.{name,place,address,birth_date}_lookup up to date with staging.customers.

    latest: the last plausible birth date (the as_of day): later dates are data errors.
    Returns the number of values normalized per table.
    """
    counts = {table: refresh_lookup(wh, table) for table in RAW_VALUES}
    births = wh.frame("select distinct birth_date as raw from staging.customers where birth_date is not null")
    order = config.dedupe.date_order
    norm = map_distinct(births["raw"], lambda d: normalize_birth_date(d, order, latest), pl.Date)
    counts["core.birth_date_lookup"] = wh.write_frame(
        "core.birth_date_lookup", births.with_columns(norm=norm)
    )
    return counts
