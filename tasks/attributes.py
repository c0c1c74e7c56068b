"""Lookups of normalized customer attributes (names, places, addresses, birth dates) for core.customer_records.

Each lookup maps every distinct raw value staged in staging.customers to its normalized form
(null: unusable or a placeholder); the normalizers run once per distinct value. The matcher and the
golden record read the normalized columns of core.customer_records, never these tables directly.
"""

from datetime import date

import polars as pl

from tasks.config import PipelineConfig
from tasks.normalize import (
    map_distinct,
    name_key,
    normalize_address,
    normalize_birth_date,
    normalize_name,
    normalize_place,
)
from tasks.warehouse import Warehouse

# The name of a customers row: full_name, else family and given name (the normalizer drops the space
# between Han characters, so 张 + 三 reads 张三). customer_records.sql uses the same expression.
NAME_SQL = "coalesce(full_name, nullif(concat_ws(' ', family_name, given_name), ''))"


def build_attribute_lookups(wh: Warehouse, config: PipelineConfig, latest: date) -> dict[str, int]:
    """Write core.{name,place,address,birth_date}_lookup from staging.customers; return their row counts.

    latest: the last plausible birth date (the as_of day): later dates are data errors.
    """
    names = wh.frame(f"select distinct {NAME_SQL} as raw from staging.customers where {NAME_SQL} is not null")
    places = wh.frame(
        "select distinct raw from (select city as raw from staging.customers "
        "union all select province from staging.customers) where raw is not null"
    )
    addresses = wh.frame("select distinct address as raw from staging.customers where address is not null")
    births = wh.frame("select distinct birth_date as raw from staging.customers where birth_date is not null")
    order = config.dedupe.date_order
    frames = {
        "core.name_lookup": names.with_columns(
            norm=map_distinct(names["raw"], normalize_name), key=map_distinct(names["raw"], name_key)
        ),
        "core.place_lookup": places.with_columns(norm=map_distinct(places["raw"], normalize_place)),
        "core.address_lookup": addresses.with_columns(norm=map_distinct(addresses["raw"], normalize_address)),
        "core.birth_date_lookup": births.with_columns(
            norm=map_distinct(births["raw"], lambda d: normalize_birth_date(d, order, latest), pl.Date)
        ),
    }
    return {table: wh.write_frame(table, frame) for table, frame in frames.items()}
