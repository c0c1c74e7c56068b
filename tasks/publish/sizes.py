"""Segment sizes per published day, counted once per day and kept (published.segment_size_days).

The report draws the sizes of every scheme on every published day up to its as_of (the trend panels).
Counting them again from every day's published rows cost a publish time in proportion to the whole
history; now a day's sizes are counted when the day is published and read back afterwards. A day whose
published rows changed since (a person erased from it, the day published again) or that another version
of the counting model counted is counted again before the trend is read, so the trend is always what
counting every day's published rows now would give.
"""

import hashlib
from datetime import date

from tasks.shared.warehouse import Warehouse, sql_path

SIZES = "published.segment_size_days"
COUNTING_MODEL = "published/segment_sizes_by_day"


def counting_model_hash() -> str:
    """The hash of the counting model's text: sizes another version of it counted are counted again."""
    return hashlib.sha256(sql_path(COUNTING_MODEL).read_bytes()).hexdigest()[:16]


def refresh_sizes(wh: Warehouse, as_of: date) -> None:
    """Count the sizes of as_of and of every published day whose stored sizes are missing or stale."""
    model = counting_model_hash()
    with wh.transaction():
        if not wh.table_exists(SIZES):
            wh.build("_size_stale_days", "published/segment_size_all_days", temp=True)
            wh.build(SIZES, COUNTING_MODEL, {"model": model})  # with its rows: see tags.py on empty tables
        else:
            params = {"as_of": as_of, "model": model}
            wh.build("_size_stale_days", "published/segment_size_stale_days", params, temp=True)
            wh.run("published/segment_size_days_drop")
            wh.insert(SIZES, COUNTING_MODEL, {"model": model})
        wh.execute("drop table _size_stale_days")


def size_trend(wh: Warehouse, as_of: date) -> list[tuple]:
    """The sizes of every scheme's segments on every published day up to as_of (segment_size_trend.sql)."""
    refresh_sizes(wh, as_of)
    return wh.rows(wh.model_sql("published/segment_size_trend"), {"as_of": as_of})
