"""Customer tags (客户标签): a long table (as_of, customer_id, tag, tag_zh, value) for the customer 360 view."""

import polars as pl

from tasks.segment.naming import ACTIVE_DAYS, HIGH_SESSIONS_30D, MEDIUM_SESSIONS_30D
from tasks.shared.warehouse import Warehouse

TAGS = "segments.customer_tags"
# The activity tag's thresholds: the cluster names' words are checked against the same numbers.
TAG_PARAMS = {
    "active_days": ACTIVE_DAYS,
    "medium_sessions": MEDIUM_SESSIONS_30D,
    "high_sessions": HIGH_SESSIONS_30D,
}


def build_tags(wh: Warehouse) -> None:
    """Define segments.customer_tags over segments.customer_segments and the rule memberships.

    A view (sql/segments/customer_tags.sql): publish copies the day's tags, about nine per customer, so
    they are computed there once instead of written here and copied again; the stage does not count
    them either (at 1M customers a count evaluates the ~10M-row view: 0.3 s of CPU). A warehouse of an
    earlier version holds them as a table, which the view replaces.
    """
    wh.write_frame("segments.tag_thresholds", pl.DataFrame([TAG_PARAMS]))
    if TAGS in wh.base_tables(["segments"]):
        wh.execute(f"drop table {TAGS}")
    wh.build_view(TAGS, "segments/customer_tags")
