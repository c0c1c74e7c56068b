"""Late rows: what a run staged from its new files that falls on days already published before its own.

Features, scores and segments of the run's day count them (the roll-ups of their days are recomputed), but the
published history of those days stays as it was published, without them, until a backfill with overwrite
publishes the days again. The run says so, so that the history is not taken for what a backfill would give.
"""

from datetime import date, datetime
from typing import Any

from tasks.shared.text import counted
from tasks.shared.warehouse import Warehouse


def late_rows(
    wh: Warehouse, run_id: str, as_of: date, started: datetime, partial: list[date]
) -> list[dict[str, Any]]:
    """Per kind and source, the rows run_id (started then) staged from the files it loaded first on complete
    published days before as_of (sql/published/late_rows.sql; partial: the days published partial, which the run
    publishes again: tasks.publish.tables.partial_days); none before anything was published."""
    if not wh.table_exists("published.runs"):
        return []
    params = {"run_id": run_id, "as_of": as_of, "started": started, "partial": partial}
    return wh.dicts(wh.model_sql("published/late_rows"), params)


def late_rows_said(rows: list[dict[str, Any]]) -> str | None:
    """One warning line for late rows (None without any)."""
    if not rows:
        return None
    first, last = min(r["first_day"] for r in rows), max(r["last_day"] for r in rows)
    parts = "; ".join(
        f"{r['source']} ({r['kind']}): {counted(r['rows'], 'row')} on {counted(r['days'], 'day')}"
        for r in rows
    )
    span = str(first) if first == last else f"{first} to {last}"
    return (
        f"late rows on published days ({span}): {parts}. Those days stay as published, without them; this day and "
        f"later ones count them. To publish the days again with them: segments backfill --config PATH --start {first} "
        f"--end {last} --overwrite (the backfill flow with overwrite)"
    )
