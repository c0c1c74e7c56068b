"""The test oracle of customer_features: the customers' activity over the raw events, not the roll-up.

customer_activity_raw.sql computes what sql/features/customer_activity.sql computes from the daily
roll-up, but from core.events; features/customer_features.sql, which only assembles the activity with
orders, feedback and the customers, then reads it, so the rows compared differ only in the activity path.
"""

from datetime import date
from pathlib import Path

from tasks.shared.shards import ALL
from tasks.shared.warehouse import Warehouse

RAW_ACTIVITY = (Path(__file__).parent / "customer_activity_raw.sql").read_text(encoding="utf-8")


def raw_customer_features(wh: Warehouse, as_of: date, session_types: list[str]) -> list[tuple]:
    """customer_features as of as_of with the activity over the raw events, ordered by customer_id."""
    params = {"as_of": as_of, "cutoff": wh.cutoff(as_of), "session_types": session_types, "undated": True}
    wh.execute(f"create or replace temp table _customer_activity as {RAW_ACTIVITY}", params)
    try:
        sql = wh.model_sql("features/customer_features", {"activity": "_customer_activity"}, ALL)
        return wh.rows(f"select * from ({sql}) order by customer_id", params)
    finally:
        wh.execute("drop table _customer_activity")
