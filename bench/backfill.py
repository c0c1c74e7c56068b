"""The backfill benchmark: a range of days through the `backfill` flow, and whether its last day equals a full refresh.

`run_backfill` runs in the worker's process (bench/worker.py, mode ``backfill``): the backfill flow
for the days ending at `end`, timed end to end, each day's time read from the Prefect server (the
start and end of its `daily_refresh` subflow run). `published_digest` summarizes one day of
published.customer_segments as hashes of its rows sorted by customer, without the run ids and
publish timestamps (which differ between any two runs); `compare_digests` says whether two equal
and, when not, which columns differ; `customer_differences` counts, customer by customer, the customers
only one side has and the values that differ (one customer clustered otherwise changes every ordered
digest).
"""

import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bench.worker import STAGES

TABLE = "published.customer_segments"
# Columns that label a customer's cluster: ids and names a refit carries over from the previous fit.
CLUSTER_LABELS = ("cluster_id", "cluster_name", "cluster_name_zh")
PAGE = 200


def run_backfill(config_path: str, end: date, days: int) -> dict:
    """The backfill flow over `days` days ending at `end`; wall time and each day's subflow time."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    from flows.backfill import backfill

    start = end - timedelta(days=days - 1)
    started = time.perf_counter()
    state = backfill(start=start, end=end, config=config_path, return_state=True)
    wall = time.perf_counter() - started
    computed = state.result()
    parent = FlowRunFilter(
        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[state.state_details.flow_run_id])
    )
    with get_client(sync_client=True) as client:
        runs = every(client.read_flow_runs, flow_run_filter=parent)
        subflows = FlowRunFilter(id=FlowRunFilterId(any_=[run.id for run in runs]))
        tasks = every(client.read_task_runs, flow_run_filter=subflows)
    per_day = {
        run.name.removeprefix("daily-refresh-"): (run.end_time - run.start_time).total_seconds()
        for run in runs
        if run.start_time and run.end_time
    }
    day_of = {run.id: run.name.removeprefix("daily-refresh-") for run in runs}
    stages = dict.fromkeys(STAGES, 0.0)  # each stage's wall time summed over the days
    by_day: dict[str, dict[str, float]] = {}  # and per day: does a day cost more as history grows?
    for task in tasks:
        name = next((stage for stage in STAGES if task.name.startswith(stage)), None)
        if name and task.start_time and task.end_time:
            seconds = (task.end_time - task.start_time).total_seconds()
            stages[name] += seconds
            day = by_day.setdefault(day_of.get(task.flow_run_id, "?"), dict.fromkeys(STAGES, 0.0))
            day[name] += seconds
    return {
        "wall_s": wall,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": days,
        "computed": len(computed),
        "per_day_s": dict(sorted(per_day.items())),
        "stages_s": stages,
        "stages_by_day_s": dict(sorted(by_day.items())),
    }


def every(read: Callable[..., list[Any]], **filters: Any) -> list[Any]:
    """Every object a Prefect client read method finds, page by page (the server caps a page at 200)."""
    found: list[Any] = []
    while True:
        page = read(**filters, limit=PAGE, offset=len(found))
        found += page
        if len(page) < PAGE:
            return found


def compared_columns(con: duckdb.DuckDBPyConnection, table: str = TABLE) -> list[str]:
    """The columns of published.customer_segments (or table: it in an attached database) that a rerun must
    reproduce: not run ids, not timestamps."""
    described = con.execute(f"select column_name, column_type from (describe {table})").fetchall()
    return [
        name
        for name, kind in described
        if not (name == "run_id" or name.endswith("_run_id") or kind.startswith("TIMESTAMP"))
    ]


def members_of(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> str:
    """A subquery of each customer_id and its records (source/source_id, sorted, comma-joined) from
    core.identity_map; without one, each customer_id of the published table as its own records. catalog:
    an attached database to read (default: the connection's own)."""
    prefix = f"{catalog}." if catalog else ""
    found = "select count(*) from information_schema.tables where table_schema = 'core' and table_name = 'identity_map'"
    mapped = con.execute(
        found + (" and table_catalog = ?" if catalog else ""), [catalog] if catalog else []
    ).fetchall()
    if mapped[0][0]:
        return (
            "(select customer_id, string_agg(source || '/' || source_id, ',' order by source, source_id) as records "
            f"from {prefix}core.identity_map group by customer_id)"
        )
    return f"(select distinct customer_id, customer_id as records from {prefix}{TABLE})"


def published_digest(warehouse: Path, as_of: date) -> dict:
    """Rows of one published day and MD5s of them sorted by customer: of whole rows and of each column.

    A customer is named by its records (core.identity_map: every source/source_id resolved to it), not
    by its customer_id: a backfill assigns stable ids over days of history and a single refresh over
    one, so the same person may carry another id while every value is the same. The ids are compared
    apart (``ids``); a customer whose records differ (another clustering) differs in ``records``.
    The clusters likewise: a refit's clusters keep the ids and names of the previous fit's they match
    (tasks/segment/clusters.py), so the clusters are compared as a partition of the customers
    (``clusters``: who is with whom) and their ids and names apart (``cluster_labels``).
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        compared = compared_columns(con)
        labels = [c for c in CLUSTER_LABELS if c in compared]
        columns = [c for c in compared if c != "customer_id" and c not in labels]
        quoted = ['"' + c.replace('"', '""') + '"' for c in columns]
        day = (
            f"(select m.records, s.customer_id, {', '.join('s.' + q for q in quoted)} from {TABLE} as s "
            f"left join {members_of(con)} as m using (customer_id) where s.as_of = $as_of) as t"
        )
        by_customer = "order by records, customer_id"
        hashes = [
            f"md5(string_agg(coalesce({q}::varchar, '∅'), '|' {by_customer}))"
            for q in ['"records"', '"customer_id"', *quoted]
        ]
        whole = f"md5(string_agg(coalesce(records, '∅') || ({', '.join(quoted)})::varchar, chr(10) {by_customer}))"
        row = con.execute(
            f"select count(*), {whole}, {', '.join(hashes)} from {day}", {"as_of": as_of}
        ).fetchall()[0]
        clusters = cluster_labels = None
        if labels:
            members = "string_agg(coalesce(records, customer_id), ';' order by records, customer_id)"
            named = " || ':' || ".join(f"coalesce(\"{c}\"::varchar, '∅')" for c in labels)
            clusters, cluster_labels = con.execute(
                f"select md5(string_agg(members, '|' order by members)), "
                f"md5(string_agg(members || '=' || named, '|' order by members)) "
                f"from (select {members} as members, any_value({named}) as named "
                f"from (select t.*, {', '.join(chr(34) + c + chr(34) for c in labels)} "
                f"from {day.removesuffix(' as t')} as t "
                f"join {TABLE} as s using (customer_id) where s.as_of = $as_of) "
                f"group by {', '.join(chr(34) + c + chr(34) for c in labels)})",
                {"as_of": as_of},
            ).fetchall()[0]
    return {
        "rows": row[0],
        "hash": row[1],
        "ids": row[3],
        "cluster_labels": cluster_labels,
        "columns": dict(zip(["records", *columns], (row[2], *row[4:]), strict=True))
        | ({"clusters": clusters} if labels else {}),
    }


def compare_digests(backfilled: dict, full: dict) -> dict:
    """Whether a backfill's last day equals the full refresh of that day; when not, the columns that differ.

    Equal means the same customers (by their records) with the same values; the customer ids are
    reported apart (``same_ids``), since a backfill may name a merged customer by another stable id.
    """
    columns = sorted(set(backfilled["columns"]) | set(full["columns"]))
    differing = [c for c in columns if backfilled["columns"].get(c) != full["columns"].get(c)]
    return {
        "equal": backfilled["rows"] == full["rows"]
        and backfilled["hash"] == full["hash"]
        and backfilled["columns"].get("clusters") == full["columns"].get("clusters"),
        "rows": {"backfill": backfilled["rows"], "full": full["rows"]},
        "differing_columns": differing,
        "same_ids": backfilled["ids"] == full["ids"],
        "same_cluster_labels": backfilled.get("cluster_labels") == full.get("cluster_labels"),
    }


def customer_differences(backfilled: Path, full: Path, as_of: date) -> dict:
    """Where two warehouses' published day differs customer by customer: the customers matched by their
    records (core.identity_map; by customer_id without one), those only one side has, and for each column
    (not the cluster labels, which compare_digests compares as a partition) how many matched customers
    carry another value.

    The digests of published_digest are taken in the order of the customers' records, so one customer
    clustered otherwise (a merge more or less) changes every column's digest: these counts say how much
    differs beside that.
    """
    with duckdb.connect() as con:
        sides = {"backfill": backfilled, "full": full}
        for side, path in sides.items():  # `full` is a keyword: the databases are <side>_wh
            con.execute(f"attach '{path}' as {side}_wh (read_only)")
        compared = compared_columns(con, f"full_wh.{TABLE}")
        columns = [c for c in compared if c != "customer_id" and c not in CLUSTER_LABELS]
        quoted = ['"' + c.replace('"', '""') + '"' for c in columns]
        for side in sides:
            con.execute(
                f"create temp table {side}_day as select coalesce(m.records, s.customer_id) as records, "
                f"{', '.join('s.' + q for q in quoted)} from {side}_wh.{TABLE} as s "
                f"left join {members_of(con, f'{side}_wh')} as m using (customer_id) where s.as_of = ?",
                [as_of],
            )
        counts = con.execute(
            "select (select count(*) from backfill_day), (select count(*) from full_day), "
            "(select count(*) from backfill_day semi join full_day using (records)), "
            + ", ".join(f"count(*) filter (where b.{q} is distinct from f.{q})" for q in quoted)
            + " from backfill_day as b join full_day as f using (records)"
        ).fetchall()[0]
    rows_backfill, rows_full, matched, *differing = counts
    return {
        "customers": {
            "backfill": rows_backfill,
            "full": rows_full,
            "matched": matched,
            "only_backfill": rows_backfill - matched,
            "only_full": rows_full - matched,
        },
        "columns": {column: n for column, n in zip(columns, differing, strict=True) if n},
    }


def by_customer_note(by_customer: dict | None) -> str:
    """What differs customer by customer (bench/backfill.py customer_differences), as a sentence; empty
    without it (a run before it was measured)."""
    if not by_customer:
        return ""
    customers, columns = by_customer["customers"], by_customer["columns"]
    differing = ", ".join(f"{column} {n:,}" for column, n in columns.items()) or "none"
    return (
        f" Customer by customer (named by their records): {customers['matched']:,} in both, "
        f"{customers['only_backfill']:,} only in the backfill, {customers['only_full']:,} only in the full "
        f"refresh (clustered otherwise); of those in both, how many carry another value: {differing}."
    )
