"""What a day published again moved: a backfill recomputes published days (overwrite, or the days after the
days it computes), and their segments, risk tiers and so audiences can come out otherwise than the first
time (models fitted on the order's schedule, merges of records that arrived later). Before such a day is
computed its published memberships are kept aside; after, the customers whose memberships moved are counted
per column, so the backfill says what it changed on days people have already acted on.
"""

from datetime import date

from tasks.shared.warehouse import Warehouse, quote_column

KEPT = "published.republished_day"  # one day's memberships as published before its recomputation
# The published columns a customer's memberships are (the segment schemes, and the churn risk tier).
MEMBERSHIP_COLUMNS = (
    "rfm_segment",
    "rfm_cn_class",
    "value_tier",
    "lifecycle_stage",
    "rule_segments",
    "cluster_id",
    "risk_tier",
)


def keep_published(wh: Warehouse, as_of: date, backfill_id: str) -> int:
    """Keep the day's published memberships aside for a backfill request; how many rows are kept.

    What the same request kept of the day already stays: a request that resumes after a failure or a kill
    that came once the day was computed again (a webhook failing after the publish) compares with the day as
    it was before the request, not with its own recomputation. What another request kept is replaced."""
    if wh.table_exists(KEPT):
        kept = wh.scalar(
            f"select count(*) from {KEPT} where as_of = ? and backfill_id = ?", [as_of, backfill_id]
        )
        if kept:
            return kept
    wh.run(
        "published/republished_day",
        {"as_of": as_of, "backfill_id": backfill_id},
        identifiers={"columns": present(wh)},
    )
    return wh.scalar(f"select count(*) from {KEPT}")


def moved_memberships(wh: Warehouse, as_of: date) -> dict[str, int] | None:
    """Customers whose memberships on as_of differ from those kept by keep_published (moved_memberships.sql):
    'customers', then per column; None when nothing of that day was kept. The kept rows are dropped."""
    if not wh.table_exists(KEPT) or wh.scalar(f"select count(*) from {KEPT} where as_of = ?", [as_of]) == 0:
        return None
    kept = wh.columns(KEPT)  # keep_published took the membership columns the published table had
    columns = [c for c in MEMBERSHIP_COLUMNS if c in kept]
    differs = {c: f"before.{quote_column(c)} is distinct from after.{quote_column(c)}" for c in columns}
    both = "before.customer_id is not null and after.customer_id is not null"
    moved = [f"count(*) filter (where {both} and {d}) as {quote_column(c)}" for c, d in differs.items()]
    sql = wh.model_sql(
        "published/moved_memberships",
        fragments={"moved": ", ".join(moved), "any_moved": " or ".join(differs.values()) or "false"},
    )
    (row,) = wh.rows(sql, {"as_of": as_of})
    wh.execute(f"drop table {KEPT}")
    return dict(zip(["customers", *columns], row, strict=True))


def present(wh: Warehouse) -> list[str]:
    """The membership columns the published table has (risk_tier only once predictions were published)."""
    published = set(wh.columns("published.customer_segments"))
    return [c for c in MEMBERSHIP_COLUMNS if c in published]


def moved_text(moved: dict[str, int]) -> str:
    """'1,145 customers (risk_tier 1,145, rfm_segment 3)': the columns that moved, most first."""
    columns = sorted(
        ((n, c) for c, n in moved.items() if c != "customers" and n), key=lambda x: (-x[0], x[1])
    )
    detail = ", ".join(f"{c} {n:,}" for n, c in columns)
    return f"{moved['customers']:,} customers" + (f" ({detail})" if detail else "")
