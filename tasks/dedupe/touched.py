"""Touched components: a run re-resolves only the clusters its changes can reach, and keeps the others.

A record's cluster and customer_id depend on the record graph (its match keys shared by at most
max_key_records records, the probabilistic links), the size guard and the ids of the last forward run.
When the last run was a forward run whose graph this module kept (core.identity_graph_state), a record
whose edges are all as in the last run, in a component no change reaches, keeps its row of the identity
map. The touched records are (graph/touched_seed.sql):

- the records whose customer record or observations changed (core/changed_records.sql), new and gone ones
  included;
- the records holding a key value of those that links now or linked in the last run (its count crossed
  max_key_records: the counts above the limit are kept in core.identity_overshared; or two people hold it now
  or held it then: tasks/dedupe/households.py, the values kept in core.identity_two_people);
- the two records of every probabilistic link added, removed or scored otherwise;

closed over whole components (graph/touched_close.sql): the last run's customers of touched records, the
customers they had in the id state (through merges), the last run's clusters above max_cluster_size. An
untouched record has the same edges as in the last run, so its last component is a component of this
run's graph, with the same customer_id (tasks/dedupe/ids.py's rules give it back unchanged); the graph is
built over the touched records only (key values counted over every record: graph/keys_known.sql; a value
two people hold is left out whatever its count, its holders may lie in several components), and
their ids assigned against the state of those records. The identity map then replaces the touched
records' rows. tests/unit/dedupe/test_touched.py checks merges, splits and untouched components against
a full resolution.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from tasks.dedupe.comparisons import Comparison, PersonConflict
from tasks.dedupe.graph import RecordClusters, suspicious_clusters
from tasks.dedupe.households import conflict_comparisons
from tasks.dedupe.ids import resolve_ids
from tasks.shared.warehouse import Warehouse

# bump when what the kept graph holds changes: the next run links every record. 3: names read anew
GRAPH_VERSION = 3
GRAPH_TABLES = (
    "core.identity_overshared",
    "core.identity_two_people",
    "core.identity_oversized",
    "core.identity_graph_state",
)
# what a run reads of the last run besides the graph's tables
LAST_RUN = (
    "core.identity_map",
    "core.identity_state",
    "core.identity_runs",
    "core.customer_ids",
    "core.match_links",
)
LINK_SCHEMA = {
    "source_a": pl.String,
    "id_a": pl.String,
    "source_b": pl.String,
    "id_b": pl.String,
    "match_probability": pl.Float64,
    "rule": pl.String,
}
# temp tables of one run's touched set, dropped by forget_touched
TOUCHED_TABLES = (
    "_links_before",
    "_links_now",
    "_changed_keys",
    "_key_holders",
    "_key_recount",
    "_redirects",
    "_touched",
)


def graph_problem(
    wh: Warehouse, max_key_records: int, max_cluster_size: int, people_rule: str, forward: bool
) -> str | None:
    """Why this run must link every record instead of the touched ones (None: the kept graph serves).

    people_rule: what decides which values two people hold (people_rule()); forward: this run is a forward
    run (tasks.dedupe.ids.forward_run); the last recorded run must be the forward run that kept the graph
    (the count of runs it left is still the count)."""
    if not forward:
        return "a backfill links every record"
    if not all(wh.table_exists(table) for table in (*GRAPH_TABLES, *LAST_RUN)):
        return "no kept record graph"
    rows = wh.rows(wh.model_sql("core/identity_graph_kept"))
    if len(rows) != 1:
        return "no kept record graph"
    version, keys, size, rule, runs = rows[0]
    if version != GRAPH_VERSION:
        return f"record graph kept by older code (version {version})"
    if (keys, size, rule) != (max_key_records, max_cluster_size, people_rule):
        return "record graph kept with other settings"
    if runs != wh.count("core.identity_runs"):
        return "another run since the record graph was kept"
    return None


def keep_links_before(wh: Warehouse) -> None:
    """The last run's links (core.match_links that were used) as _links_before, before this run replaces them."""
    wh.build("_links_before", "core/graph/links_before", temp=True)


def people_rule(conflict: PersonConflict | None, comparisons: Sequence[Comparison]) -> str:
    """What decides which key values two people hold, as the kept graph records it: the conflict rule and the
    comparisons it reads (their levels), or '' when none applies."""
    if conflict is None:
        return ""
    used = [repr(c) for c in conflict_comparisons(conflict, comparisons)]
    return hashlib.sha256(repr((conflict, used)).encode()).hexdigest()[:16]


def key_changes(wh: Warehouse) -> None:
    """Build _changed_keys, _key_holders and _key_recount: the key values of the changed records, now and in the
    last run, every record holding each now, and their counts.

    Needs _changed_records, the views _observations and _holders, and the last run's tables (*_before)."""
    wh.run(
        "core/graph/observations",
        identifiers={
            "view": "_observations_before",
            "observations": "core.record_observations_before",
            "customer_records": "core.customer_records_before",
        },
    )
    wh.build("_changed_keys", "core/graph/changed_keys", temp=True)
    wh.build("_key_holders", "core/graph/key_holders", temp=True)
    wh.build("_key_recount", "core/graph/key_recount", temp=True)
    wh.execute("drop view _observations_before")


def touch_records(wh: Warehouse, pair_links: pl.DataFrame | None, max_key_records: int) -> int:
    """Build _touched: the records whose component may differ from the last run's, in whole components, and
    the view linking them reads (_touched_observations); return how many.

    Needs key_changes' tables, _two_people (the changed values two people hold now), _links_before and the
    _observations view."""
    links = pl.DataFrame(schema=LINK_SCHEMA) if pair_links is None else pair_links.select(*LINK_SCHEMA)
    wh.write_frame("_links_now", links.cast(LINK_SCHEMA), temp=True)  # type: ignore[arg-type]
    merged = wh.frame(wh.model_sql("core/ids/merged_ids"))
    redirects = resolve_ids(merged)
    wh.write_frame(
        "_redirects",
        pl.DataFrame(
            {"customer_id": list(redirects), "current_customer_id": list(redirects.values())},
            schema={"customer_id": pl.String, "current_customer_id": pl.String},
        ),
        temp=True,
    )
    touched = wh.build("_touched", "core/graph/touched_seed", {"max_key_records": max_key_records}, temp=True)
    while True:  # whole components: a few rounds (a customer's records, then the customers they had)
        wh.build("_touched_more", "core/graph/touched_close", temp=True)
        more = wh.count("_touched_more")
        if more:
            wh.execute("insert into _touched select * from _touched_more")
        wh.execute("drop table _touched_more")
        if not more:
            break
        touched += more
    wh.run("core/graph/touched_observations")
    return touched


def kept_graph(wh: Warehouse, clusters: RecordClusters, max_key_records: int) -> RecordClusters:
    """Bring the kept graph up to date with the touched records' clusters (the recounted key values, those two
    people hold, the oversized clusters); return clusters with the run's over-shared keys, suspicious clusters
    and values two people hold (of every record)."""
    wh.run("core/identity_two_people_forget")
    wh.insert("core.identity_two_people", "core/identity_two_people", identifiers={"values": "_two_people"})
    wh.run("core/identity_overshared_forget")
    wh.insert(
        "core.identity_overshared", "core/identity_overshared_recounted", {"max_key_records": max_key_records}
    )
    wh.run("core/identity_oversized_forget")
    wh.write_frame("_oversized", clusters.oversized, temp=True)
    wh.insert("core.identity_oversized", "core/identity_oversized")
    wh.execute("drop table _oversized")
    overshared = wh.rows(wh.model_sql("core/graph/overshared", {"keys": "core.identity_overshared"}))
    oversized = wh.frame(wh.model_sql("core/identity_oversized_read"))
    described = [f"{key}={value} ({count} records)" for key, value, count in overshared]
    two_people = wh.frame(wh.model_sql("core/identity_two_people_read"))
    return replace(
        clusters, overshared=described, suspicious=suspicious_clusters(oversized), two_people=two_people
    )


def keep_graph(
    wh: Warehouse,
    clusters: RecordClusters | None,
    max_key_records: int,
    max_cluster_size: int,
    people_rule: str,
    as_of: object,
) -> None:
    """Keep what the next run needs of this forward run's graph: with clusters (every record linked this
    run), its over-shared keys, the values two people hold and oversized clusters; then the state row (after
    this run's identity_runs row)."""
    if clusters is not None:
        with wh.registered("_two_people_judged", clusters.two_people):
            wh.build(
                "core.identity_two_people",
                "core/identity_two_people",
                identifiers={"values": "_two_people_judged"},
            )
        counts = clusters.overshared_counts
        wh.write_frame(
            "_overshared_keys",
            pl.DataFrame(schema={"key": pl.String, "value": pl.String, "records": pl.Int64})
            if counts is None
            else counts,
            temp=True,
        )
        wh.build(
            "core.identity_overshared",
            "core/identity_overshared",
            {"max_key_records": max_key_records},
            identifiers={"keys": "_overshared_keys"},
        )
        wh.execute("drop table _overshared_keys")
        wh.write_frame("_oversized", clusters.oversized, temp=True)
        wh.build("core.identity_oversized", "core/identity_oversized")
        wh.execute("drop table _oversized")
    wh.build(
        "core.identity_graph_state",
        "core/identity_graph_state",
        {
            "version": GRAPH_VERSION,
            "max_key_records": max_key_records,
            "max_cluster_size": max_cluster_size,
            "people_rule": people_rule,
            "runs": wh.count("core.identity_runs"),
            "as_of": as_of,
        },
    )


def forget_graph(wh: Warehouse) -> None:
    """Drop the kept graph (a backfill's identity map is not the next forward run's last components)."""
    for table in GRAPH_TABLES:
        wh.execute(f"drop table if exists {table}")


def replace_identity_rows(wh: Warehouse) -> None:
    """Replace the touched records' rows of core.identity_map with those of record_components (their
    clusters this run), and name in _identity_changed the customers whose rows changed."""
    wh.build("_identity_before", "core/identity_map_touched", temp=True)
    wh.run("core/identity_map_forget")
    wh.insert("core.identity_map", "core/identity_map")
    wh.build("_identity_after", "core/identity_map_touched", temp=True)
    sides = {"after": "_identity_after", "before": "_identity_before"}
    wh.build("_identity_changed", "core/identity_changed", temp=True, identifiers=sides)
    wh.execute("drop table _identity_before")
    wh.execute("drop table _identity_after")


def forget_touched(wh: Warehouse) -> None:
    """Drop the touched set's temp tables and view."""
    wh.execute("drop view if exists _touched_observations")
    for table in TOUCHED_TABLES:
        wh.execute(f"drop table if exists {table}")
