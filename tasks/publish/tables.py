"""The published tables: each as_of's rows replaced in one transaction, the run recorded, changes derived.

Every published table is declared once in PUBLISHED_TABLES with the model its rows come from; one
function creates it, adds the columns a newer model has (older days keep nulls there) and replaces
the as_of's rows, so a rerun of the same as_of replaces rather than duplicates. published.customer_tags
is the exception: a view over spans of each customer's tag set, written only where a day changed them (tags.py).
"""

import subprocess
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from importlib import metadata
from typing import Any

from tasks.act import ensure_act_tables
from tasks.publish.destinations import people_sql
from tasks.publish.tags import publish_tags
from tasks.segment.stability import previous_published_day
from tasks.shared.config import ActConfig
from tasks.shared.warehouse import SQL_DIR, Warehouse, quote_column, quote_identifier

# Published table -> the model its rows come from (sql/<model>.sql).
PUBLISHED_TABLES: dict[str, str] = {
    "published.customer_segments": "published/customer_segments",
    "published.segment_changes": "published/segment_changes",
    "published.audience_members": "published/audience_members",
    "published.campaign_outcomes": "published/campaign_outcomes",
    "published.outreach": "published/outreach",
}


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version and, when run from a git checkout, the commit."""
    version = metadata.version("precision-segments")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=SQL_DIR.parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+{commit}"


def ensure_published_table(
    wh: Warehouse, table: str, params: dict[str, Any], fragments: dict[str, str] | None = None
) -> None:
    """Create a published table from its model if missing, and add the columns a newer model has.

    The table is defined by a column list, not created from the model's empty select: see
    sql/ops/published_table.sql for the DuckDB defect that hid the first publish's rows.
    """
    columns = wh.describe(f"({wh.model_sql(PUBLISHED_TABLES[table], fragments=fragments)})", params)
    definition = ",\n    ".join(f"{quote_column(name)} {sql_type}" for name, sql_type in columns)
    wh.run("ops/published_table", identifiers={"table": table}, fragments={"columns": definition})
    existing = set(wh.columns(table))
    for name, sql_type in columns:
        if name not in existing:
            wh.execute(f"alter table {quote_identifier(table)} add column {quote_column(name)} {sql_type}")


def replace_day(
    wh: Warehouse, table: str, as_of: date, params: dict[str, Any], fragments: dict[str, str] | None = None
) -> int:
    """Replace the as_of's rows of a published table with its model's rows; return how many were inserted."""
    with wh.transaction():
        ensure_published_table(wh, table, params, fragments)
        wh.execute(f"delete from {quote_identifier(table)} where as_of = ?", [as_of])
        return wh.insert(table, PUBLISHED_TABLES[table], params, fragments=fragments)


def publish_changes(wh: Warehouse, as_of: date) -> int:
    """Replace the as_of's rows of published.segment_changes (against the previous published day); return how many.

    Only customers whose segment columns differ between the two days can have entered or exited a
    segment: the memberships of those customers alone are compared (most customers stay put).
    """
    previous = previous_published_day(wh, as_of)
    with wh.transaction():
        wh.build("_moved", "published/moved_customers", {"as_of": as_of, "previous": previous}, temp=True)
        moved = {"segments": "_moved"}
        wh.build(
            "_memberships_now",
            "published/segment_memberships",
            {"as_of": as_of},
            temp=True,
            identifiers=moved,
        )
        wh.build(
            "_memberships_before",
            "published/segment_memberships",
            {"as_of": previous},
            temp=True,
            identifiers=moved,
        )
        changed = replace_day(wh, "published.segment_changes", as_of, {"as_of": as_of, "previous": previous})
        wh.execute("drop table _moved; drop table _memberships_now; drop table _memberships_before")
        return changed


def publish_tables(
    wh: Warehouse,
    as_of: date,
    run_id: str,
    config_hash: str,
    *,
    counts: dict[str, int] | None = None,
    partial: bool = False,
    act: ActConfig | None = None,
    member_sources: Sequence[str] = (),
) -> int:
    """Replace the as_of's rows of the published tables and record the run, atomically; return the day's rows.

    counts, when given, receives the rows published per table (for the stage's counts artifact).
    partial: the day's data was incomplete (recorded in published.runs; see partial_days).
    act: the act stage's settings (the offer window of the outreach list); default ActConfig().
    member_sources: the customers sources in config order (whose record ids are in-game ids).
    """
    counts = {} if counts is None else counts
    act = ActConfig() if act is None else act
    with wh.transaction():
        ensure_act_tables(
            wh
        )  # the act stage's tables, empty if it has not run (recommended_items, audiences)
        rows = replace_day(wh, "published.customer_segments", as_of, {"run_id": run_id})
        counts["published.customer_segments"] = rows
        counts["published.customer_tags"] = publish_tags(wh, as_of)
        ensure_runs(wh)
        wh.execute(
            "insert into published.runs (run_id, as_of, config_hash, code_version, rows, published_at, partial) "
            "values (?, ?, ?, ?, ?, now(), ?)",
            [run_id, as_of, config_hash, code_version(), rows, partial],
        )
        counts["published.segment_changes"] = publish_changes(wh, as_of)
        counts |= publish_audiences(wh, as_of, run_id, act, member_sources)
    return rows


def publish_audiences(
    wh: Warehouse, as_of: date, run_id: str, act: ActConfig, member_sources: Sequence[str] = ()
) -> dict[str, int]:
    """Replace the as_of's audience members, campaign outcomes and outreach list; return rows per table.

    Call inside the publish transaction, after published.customer_segments: the outreach list reads the
    day's published customers (consent) and the audit.suppression list loaded before the audits.
    member_sources: the customers sources, in config order (the in-game id of the outreach list).
    """
    wh.ensure("ops/suppression")
    params = {"as_of": as_of, "run_id": run_id}
    counts = {
        "published.audience_members": replace_day(wh, "published.audience_members", as_of, params),
        "published.campaign_outcomes": replace_day(wh, "published.campaign_outcomes", as_of, params),
    }
    if not counts["published.audience_members"]:  # nobody to contact: no list, and no golden record needed
        wh.ensure("ops/outreach")
        wh.execute("delete from published.outreach where as_of = ?", [as_of])
        counts["published.outreach"] = 0
        return counts
    counts["published.outreach"] = replace_day(
        wh,
        "published.outreach",
        as_of,
        {**params, "window_days": act.offer_window_days, "member_sources": list(member_sources)},
        {
            "people": people_sql(wh, marketing=True, audiences_only=True),  # the list takes members only
            "member_ids": wh.model_sql("published/member_ids"),
        },
    )
    return counts


def ensure_runs(wh: Warehouse) -> None:
    """published.runs exists, with the export_version column (the export version a publish committed).

    export_version is filled by the publish's export step inside the same transaction (exports.py:
    record_version), so a version folder is known to be committed exactly when a row names it.
    """
    wh.ensure("ops/runs")


def committed_versions(wh: Warehouse) -> dict[date, tuple[str | None, set[str]]]:
    """Per published day: the export version of its latest publish (None before versions were recorded),
    and every version a publish of that day committed."""
    if not wh.table_exists("published.runs") or "export_version" not in wh.columns("published.runs"):
        return {}
    days: dict[date, tuple[str | None, set[str]]] = {}
    rows = wh.rows("select as_of, export_version from published.runs order by as_of, published_at, run_id")
    for as_of, version in rows:  # later publishes last: the latest one's version wins
        recorded = days.get(as_of, (None, set()))[1]
        days[as_of] = (version, recorded | ({version} if version else set()))
    return days


def partial_days(wh: Warehouse) -> list[date]:
    """Published days whose latest publish was partial (data still incomplete), oldest first."""
    if not wh.table_exists("published.runs") or "partial" not in wh.columns("published.runs"):
        return []  # nothing published, or only by a version that published no partial days
    return [as_of for (as_of,) in wh.rows(wh.model_sql("published/partial_days"))]
