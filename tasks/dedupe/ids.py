"""Stable customer ids across runs: assignment, merges, splits, and redirects from old ids.

Clustering (tasks/dedupe/graph.py) says which records belong together in this run; this module says which
customer_id each cluster carries, remembering earlier runs in five persistent tables:

- core.identity_state: the customer_id each record had after the latest forward run that saw it;
- core.customer_ids: every id ever issued: its anchor record, first_seen, status (active / merged),
  and the id it was merged into;
- core.merge_history / core.split_history: one row per merge / split event, with as_of and run_id;
- core.identity_runs: one row per dedupe run (forward or backfill) with its counts.

Rules, applied to each cluster of this run (record ids of earlier runs are first resolved through
merges, so a record whose id was merged away counts as the surviving id):

1. Owner: when records of one earlier customer land in several clusters, the cluster holding the
   customer's anchor record owns the id (without the anchor: the cluster with most of its records,
   then the smallest record key). The other clusters are split off: a split_history row each.
2. A cluster owning no earlier id is a new customer: 'C' + the first 16 hex digits of md5 of its
   anchor, the earliest record (first seen, then source, then id; a record without a timestamp counts
   as earliest). If that id was issued before and merged away (a bad merge undone), it is revived.
3. A cluster owning one earlier id keeps it: a record keeps its customer_id, new records join it.
4. A cluster owning several earlier ids is a merge: the survivor is the id whose customer was first
   seen earliest (unknown first counts as earliest), ties by the smaller id; every other id gets a
   merge_history row and redirects to the survivor (core.customer_id_redirects resolves chains).

Runs and backfills: a run whose as_of is on or after the latest forward run's as_of is a forward run:
it reads the state, applies the rules and writes the state, the registry and the events. A run for an
earlier as_of (a backfill after later days) reads the same state but writes none of it: it applies the
rules to its own (earlier) clusters, so it reproduces the ids those days had (a customer that was later
merged shows under its own, revived id, which redirects to the survivor) and never rewrites the
identity history of later days. Running the same as_of twice gives the same ids.

A forward run that keeps the last run's graph (tasks/dedupe/touched.py) applies the rules to the touched
components only: every other cluster owns exactly its own id, which the rules give back unchanged.
"""

import hashlib
from dataclasses import dataclass
from datetime import date

import polars as pl

from tasks.shared.warehouse import Warehouse

# The persistent tables of the ids, as table definitions (sql/core/<table>.sql).
STATE_TABLES = (
    "core/identity_state",
    "core/customer_ids",
    "core/merge_history",
    "core/split_history",
    "core/identity_runs",
)


class IdCollisionError(RuntimeError):
    """Two clusters would carry the same customer_id (an md5 prefix collision)."""


@dataclass(frozen=True)
class Assignment:
    """The outcome of assigning ids to one run's clusters."""

    records: pl.DataFrame  # record_source, record_id, component, first_seen, match_rule, customer_id
    new_ids: pl.DataFrame  # customer_id, anchor, first_seen: ids issued (or revived) by this run
    merges: pl.DataFrame  # merged_customer_id, surviving_customer_id, records, match_rules
    splits: pl.DataFrame  # customer_id, new_customer_id, records


def customer_id_for(anchor: str) -> str:
    """The id of a new customer whose earliest record is anchor ('source:source_id')."""
    return "C" + hashlib.md5(anchor.encode("utf-8")).hexdigest()[:16]


def resolve_ids(registry: pl.DataFrame) -> dict[str, str]:
    """Each merged id -> the active id it now redirects to, following chains of merges."""
    merged = registry.filter((pl.col("status") == "merged") & pl.col("merged_into").is_not_null())
    merged_into = dict(zip(merged["customer_id"].to_list(), merged["merged_into"].to_list(), strict=True))
    resolved: dict[str, str] = {}
    for start in merged_into:
        current, seen = start, {start}
        while current in merged_into and merged_into[current] not in seen:
            current = merged_into[current]
            seen.add(current)
        resolved[start] = current
    return resolved


def assign_ids(components: pl.DataFrame, previous: pl.DataFrame, registry: pl.DataFrame) -> Assignment:
    """Customer ids for this run's clusters, by the rules in the module docstring.

    components: record_source, record_id, component, first_seen, match_rule (one row per record).
    previous: source, source_id, customer_id (the state). registry: core.customer_ids rows.
    """
    redirects = resolve_ids(registry)
    records = (
        components.join(
            previous.select(
                record_source="source",
                record_id="source_id",
                prev_id=pl.col("customer_id").replace(redirects),
            ),
            on=["record_source", "record_id"],
            how="left",
        )
        .with_columns(key=pl.col("record_source") + ":" + pl.col("record_id"))
        .sort(["first_seen", "record_source", "record_id"], nulls_last=False)
    )
    anchors = records.group_by("component", maintain_order=True).agg(
        anchor=pl.col("key").first(),
        first_seen=pl.when(pl.col("first_seen").is_null().any())
        .then(None)
        .otherwise(pl.col("first_seen").min()),
        match_rules=pl.col("match_rule").filter(pl.col("match_rule") != "singleton").unique().sort(),
    )
    known = registry.select("customer_id", id_anchor="anchor", id_first_seen="first_seen")
    pairs = (
        records.filter(pl.col("prev_id").is_not_null())
        .join(known, left_on="prev_id", right_on="customer_id", how="left")
        .group_by("component", "prev_id")
        .agg(
            records=pl.len(),
            has_anchor=(pl.col("key") == pl.col("id_anchor")).any(),
            min_key=pl.col("key").min(),
            id_first_seen=pl.col("id_first_seen").first(),
        )
        .sort(["prev_id", "has_anchor", "records", "min_key"], descending=[False, True, True, False])
        .with_columns(owner=pl.col("component").first().over("prev_id") == pl.col("component"))
    )
    owned = (
        pairs.filter("owner")
        .sort(["component", "id_first_seen", "prev_id"], nulls_last=False)
        .with_columns(survivor=pl.col("prev_id").first().over("component"))
    )
    fresh = anchors.join(owned.select("component").unique(), on="component", how="anti").with_columns(
        customer_id=pl.col("anchor").map_batches(
            lambda anchors: pl.Series([customer_id_for(a) for a in anchors.to_list()], dtype=pl.String),
            return_dtype=pl.String,
        )
    )
    ids = pl.concat(
        [
            owned.select("component", customer_id="survivor").unique(),
            fresh.select("component", "customer_id"),
        ]
    )
    clashing = ids.group_by("customer_id").agg(clusters=pl.len()).filter(pl.col("clusters") > 1)
    if clashing.height:
        raise IdCollisionError(
            f"customer ids shared by several clusters: {clashing['customer_id'].to_list()}"
        )
    component_ids = ids.join(anchors.select("component", "match_rules"), on="component")
    merges = (
        owned.filter(pl.col("prev_id") != pl.col("survivor"))
        .join(component_ids, on="component")
        .select(
            merged_customer_id="prev_id",
            surviving_customer_id="survivor",
            records="records",
            match_rules="match_rules",
        )
        .sort("merged_customer_id")
    )
    splits = (
        pairs.filter(~pl.col("owner"))
        .join(ids, on="component")
        .select(customer_id="prev_id", new_customer_id="customer_id", records="records")
        .sort("customer_id", "new_customer_id")
    )
    return Assignment(
        records=records.join(ids, on="component").select(*components.columns, "customer_id"),
        new_ids=fresh.select("customer_id", "anchor", "first_seen").sort("customer_id"),
        merges=merges,
        splits=splits,
    )


def forward_run(wh: Warehouse, as_of: date) -> bool:
    """Whether a run as of as_of is a forward run (on or after the latest forward run's as_of)."""
    for table in STATE_TABLES:
        wh.ensure(table)
    latest = wh.scalar("select max(as_of) from core.identity_runs where mode = 'forward'")
    return latest is None or as_of >= latest


def assign_customer_ids(
    wh: Warehouse, components: pl.DataFrame, as_of: date, run_id: str | None, touched: bool = False
) -> pl.DataFrame:
    """Assign stable ids to this run's clusters; in a forward run, record state, registry and events.

    touched: components are the clusters of the touched records only (tasks/dedupe/touched.py: _touched,
    whole components of the last forward run and of the state); every other record keeps its customer_id
    in core.identity_map, as the rules give it back. Only the touched records' state is read."""
    forward = forward_run(wh, as_of)
    if touched:
        previous = wh.frame(wh.model_sql("core/ids/touched_state"))
        merged = wh.frame(wh.model_sql("core/ids/merged_ids"))
        redirects = resolve_ids(merged)
        held = previous["customer_id"].replace(redirects).unique().to_list()
        registry = pl.concat([merged, wh.frame(wh.model_sql("core/ids/registered"), {"ids": held})]).unique(
            "customer_id", keep="first"
        )
    else:
        previous = wh.frame("select source, source_id, customer_id from core.identity_state")
        registry = wh.frame("select * from core.customer_ids")
    result = assign_ids(components, previous, registry)
    records, customers = result.records.height, result.records["customer_id"].n_unique()
    if touched:
        fresh = result.new_ids["customer_id"].to_list()
        clashing = wh.rows(wh.model_sql("core/ids/untouched_clashes"), {"ids": fresh})
        if clashing:
            raise IdCollisionError(f"customer ids shared by several clusters: {[row[0] for row in clashing]}")
        kept_records, kept_customers = wh.rows(wh.model_sql("core/ids/untouched_counts"))[0]
        records, customers = records + kept_records, customers + kept_customers
    if forward:
        _record(wh, result, as_of, run_id)
    wh.build_view("core.customer_id_redirects", "core/customer_id_redirects")
    wh.execute(
        "insert into core.identity_runs (as_of, run_id, mode, records, customers, new_customers, merges, splits) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            as_of,
            run_id,
            "forward" if forward else "backfill",
            records,
            customers,
            result.new_ids.height,
            result.merges.height,
            result.splits.height,
        ],
    )
    return result.records


def _record(wh: Warehouse, result: Assignment, as_of: date, run_id: str | None) -> None:
    """Write the state, the registry and the merge/split events of a forward run."""
    params = {"as_of": as_of, "run_id": run_id}
    wh.write_frame("_assigned", result.records.select("record_source", "record_id", "customer_id"), temp=True)
    wh.run("core/ids/forget_assigned")
    wh.insert("core.identity_state", "core/ids/assigned_state", params)
    wh.write_frame("_new_ids", result.new_ids, temp=True)
    # revived ids (a merge undone) become active again; new ones are registered
    wh.run("core/ids/revive", params)
    wh.insert("core.customer_ids", "core/ids/issued", params)
    wh.write_frame("_merges", result.merges, temp=True)
    wh.run("core/ids/merge", params)
    wh.insert("core.merge_history", "core/ids/merges", params)
    wh.write_frame("_splits", result.splits, temp=True)
    wh.insert("core.split_history", "core/ids/splits", params)
    for table in ("_assigned", "_new_ids", "_merges", "_splits"):
        wh.execute(f"drop table {table}")


def latest_identity_run(wh: Warehouse) -> dict:
    """Counts of the latest dedupe run's id assignment (mode, new customers, merges, splits)."""
    rows = wh.dicts(
        "select mode, new_customers, merges, splits from core.identity_runs order by recorded_at desc, rowid desc limit 1"
    )
    return rows[0] if rows else {"mode": None, "new_customers": 0, "merges": 0, "splits": 0}
