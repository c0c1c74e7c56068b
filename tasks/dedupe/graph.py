"""The record graph of dedupe: exact links through shared keys, probabilistic pair links, connected components.

Two records are linked when they share a normalized email, phone, hashed national id or device id
(placeholders are null by then; a value shared by more than max_key_records records is too common
to link on; a value two people hold is a household's: tasks/dedupe/households.py), or when the
probabilistic matcher links them. Clusters are the connected components; a cluster above
max_cluster_size is re-split without its probabilistic links. The keys are grouped in DuckDB
(sql/core/graph/, bounded by its memory limit, spilling when it must); only integer edges come to
Python for the graph.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tasks.dedupe.households import TWO_PEOPLE_SCHEMA
from tasks.shared.warehouse import Warehouse

# Match keys in priority order: the first shared one names the rule that merged a record
# (sql/core/graph/exact_rules.sql).
MATCH_KEYS = ("email_norm", "phone_norm", "national_id", "device_id")
# The temp tables of one clustering, dropped when it is done (_link_edges earlier, as soon as it is used).
LINK_TABLES = ("_link_records", "_link_keys", "_link_shared", "_link_links")
# The records of the clusters above max_cluster_size: each cluster by its anchor (its first record in
# (record_source, record_id) order), its size and how it was described (core.identity_oversized).
OVERSIZED_SCHEMA = {
    "record_source": pl.String,
    "record_id": pl.String,
    "anchor_source": pl.String,
    "anchor_id": pl.String,
    "records": pl.Int64,
    "description": pl.String,
}
SUSPICIOUS_LISTED = 20  # clusters above max_cluster_size described in the run summary, largest first


@dataclass(frozen=True)
class RecordClusters:
    """Records with their cluster, and what was not used or not trusted on the way."""

    records: pl.DataFrame  # record_source, record_id, component, first_seen, match_rule, match_score
    overshared: list[str]
    suspicious: list[str]
    # the records of every cluster above max_cluster_size (OVERSIZED_SCHEMA): suspicious lists the first 20
    oversized: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=OVERSIZED_SCHEMA))
    # every key value above max_key_records among these records (key, value, records): core.identity_overshared
    overshared_counts: pl.DataFrame | None = None
    # the key values two people hold (tasks.dedupe.households.TWO_PEOPLE_SCHEMA), not linked on: of these
    # records, or of every record when only the touched ones were linked (tasks.dedupe.touched.kept_graph)
    two_people: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TWO_PEOPLE_SCHEMA))


def link_records(
    observations: pl.DataFrame | str,
    max_key_records: int,
    pair_links: pl.DataFrame | None = None,
    max_cluster_size: int | None = None,
    wh: Warehouse | None = None,
    known_counts: bool = False,
    apart: str | None = None,
    holders: str | None = None,
) -> RecordClusters:
    """Clusters of records: exact links through shared keys, then probabilistic pair links, with a size guard.

    observations: record_source, record_id, first_seen and the MATCH_KEYS: a frame (a missing key
    counts as null), or the name of a table or view of wh with all of them (e.g. the stage's
    _observations view, inside its transaction). Without wh, an in-memory warehouse does the work.
    pair_links: source_a, id_a, source_b, id_b, match_probability, rule (from tasks.dedupe.scoring).
    A cluster of more than max_cluster_size records is re-split without its probabilistic links;
    a part still too large is kept as single records. Each such cluster is described in `oversized`, the
    first SUSPICIOUS_LISTED (largest first, then by anchor) in `suspicious`.
    known_counts: the observations are some whole components of a larger population (tasks/dedupe/touched.py):
    a key value's records are counted over the population (graph/keys_known.sql), not over these records.
    apart: a table of wh (key, value) of the values not linked on whatever their count (the values two people
    hold); default none. holders: a table of wh with the observations' key values (graph/holders.sql over
    them), when the caller has it; default: read from the observations.
    """
    if wh is None:
        with Warehouse(":memory:") as scratch:
            return link_records(
                observations,
                max_key_records,
                pair_links,
                max_cluster_size,
                scratch,
                known_counts,
                apart,
                holders,
            )
    relation, frame = observations, nullcontext()
    if isinstance(observations, pl.DataFrame):
        missing = [key for key in MATCH_KEYS if key not in observations.columns]
        relation = "_link_frame"
        frame = wh.registered(
            relation, observations.with_columns(pl.lit(None, dtype=pl.String).alias(key) for key in missing)
        )
    if apart is None:
        apart = "_link_apart"
        wh.write_frame(apart, pl.DataFrame(schema={"key": pl.String, "value": pl.String}), temp=True)
    with frame:
        if holders is None:
            holders = "_link_holders"
            wh.build_view(holders, "core/graph/holders", {"observations": relation}, temp=True)
        clustered = _link(
            wh, relation, max_key_records, pair_links, max_cluster_size, known_counts, apart, holders
        )
        for table in LINK_TABLES:
            wh.execute(f"drop table {table}")
        wh.execute("drop table if exists _link_apart")
        wh.execute("drop view if exists _link_holders")
        return clustered


def _link(
    wh: Warehouse,
    relation: str,
    max_key_records: int,
    pair_links: pl.DataFrame | None,
    max_cluster_size: int | None,
    known_counts: bool,
    apart: str,
    holders: str,
) -> RecordClusters:
    """link_records over a relation of wh."""
    source = {"observations": relation}
    wh.build("_link_records", "core/graph/records", temp=True, identifiers=source)
    records = wh.frame("select * from _link_records order by node")
    wh.build("_link_edges", "core/graph/edges", temp=True, identifiers={"holders": holders})
    wh.build("_link_keys", "core/graph/keys_known" if known_counts else "core/graph/keys", temp=True)
    params = {"max_key_records": max_key_records, "first_key_node": records.height}
    shared_count = wh.build(
        "_link_shared", "core/graph/shared", params, temp=True, identifiers={"apart": apart}
    )
    wh.build("_link_links", "core/graph/links", temp=True)
    wh.execute("drop table _link_edges")
    wh.build("_overshared", "core/identity_overshared", params, temp=True, identifiers={"keys": "_link_keys"})
    overshared = wh.rows(wh.model_sql("core/graph/overshared", {"keys": "_overshared"}))
    overshared_counts = wh.frame("select * from _overshared")
    wh.execute("drop table _overshared")
    exact_rules = wh.frame(wh.model_sql("core/graph/exact_rules"))
    links = wh.frame("select node, key_node from _link_links")
    link_nodes, key_nodes = links["node"].to_numpy(), links["key_node"].to_numpy()
    del links

    def describe_keys(members: np.ndarray, limit: int = 3) -> str:
        """The most shared key values among some records, e.g. 'phone_norm=+86... (12 records)'."""
        rows = wh.rows(wh.model_sql("core/graph/cluster_keys"), {"members": members.tolist(), "limit": limit})
        return ", ".join(f"{key}={value} ({count} records)" for key, value, count in rows)

    pairs = _pair_nodes(records, pair_links)
    size = records.height + shared_count

    def components(pair_edges: pl.DataFrame) -> np.ndarray:
        rows = np.concatenate([link_nodes, pair_edges["left"].to_numpy()])
        cols = np.concatenate([key_nodes, pair_edges["right"].to_numpy()])
        graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(size, size))
        return connected_components(graph, directed=False)[1][: records.height]

    labels = components(pairs)
    described: list[tuple[int, str, str, str, np.ndarray]] = []  # size, anchor, description, members
    kept_pairs = pairs
    if max_cluster_size is not None:
        sizes = np.bincount(labels)
        big = np.flatnonzero(sizes > max_cluster_size)
        if big.size:
            in_big = np.isin(labels, big)
            kept_pairs = pairs.filter(~pl.Series(in_big[pairs["left"].to_numpy()]))
            labels = components(kept_pairs)
            split_sizes = np.bincount(labels)
            alone = in_big & (split_sizes[labels] > max_cluster_size)
            labels = np.where(alone, labels.max() + 1 + np.arange(labels.size), labels)
            old = components(pairs)  # the clusters as first found, to describe them
            # every one (a later run may keep it while it reports others): labels follow the lowest node,
            # so each cluster's anchor is its first member
            for component in big:
                members = np.flatnonzero(old == component)
                dropped = pairs.filter(pl.Series(old[pairs["left"].to_numpy()] == component)).height
                apart = int(alone[members].sum())
                parts = np.unique(labels[members[~alone[members]]]).size
                if apart == members.size:
                    action = f"all {apart} records kept apart"
                elif apart:
                    action = f"{apart} records kept apart, the rest split into {parts} clusters"
                else:
                    action = f"split into {parts} clusters"
                keys = describe_keys(members)
                anchor_source, anchor_id = records.row(int(members[0]))[1:3]
                description = (
                    f"cluster of {members.size} records: {action} after dropping {dropped} probabilistic "
                    f"links; most shared keys: {keys or 'none'}"
                )
                described.append((members.size, anchor_source, anchor_id, description, members))
    both_sides = pl.concat(
        [
            kept_pairs.select(node="left", score="match_probability", rule="rule"),
            kept_pairs.select(node="right", score="match_probability", rule="rule"),
        ]
    )
    pair_rules = both_sides.sort(["score", "rule"], descending=[True, False]).group_by("node").first()
    cluster_sizes = np.bincount(labels)[labels]
    result = (
        records.with_columns(component=pl.Series(labels, dtype=pl.Int64), size=pl.Series(cluster_sizes))
        .join(exact_rules, on="node", how="left")
        .join(pair_rules, on="node", how="left")
        .with_columns(
            match_rule=pl.when(pl.col("size") == 1)
            .then(pl.lit("singleton"))
            .otherwise(pl.coalesce("exact_rule", "rule", pl.lit("singleton"))),
            match_score=pl.when(pl.col("size") == 1)
            .then(None)
            .otherwise(pl.coalesce("exact_score", "score")),
        )
        .select("record_source", "record_id", "component", "first_seen", "match_rule", "match_score")
    )
    keys_described = [f"{key}={value} ({count} records)" for key, value, count in overshared]
    oversized = pl.concat(
        [
            records[members.tolist()].select(
                "record_source",
                "record_id",
                anchor_source=pl.lit(anchor_source),
                anchor_id=pl.lit(anchor_id),
                records=pl.lit(size),
                description=pl.lit(description),
            )
            for size, anchor_source, anchor_id, description, members in described
        ]
        or [pl.DataFrame(schema=OVERSIZED_SCHEMA)]
    ).cast(OVERSIZED_SCHEMA)  # type: ignore[arg-type]
    return RecordClusters(
        result, keys_described, suspicious_clusters(oversized), oversized, overshared_counts
    )


def suspicious_clusters(oversized: pl.DataFrame) -> list[str]:
    """The descriptions of the first SUSPICIOUS_LISTED clusters of oversized (OVERSIZED_SCHEMA): largest
    first, then by anchor (the order of their first records)."""
    clusters = oversized.select("anchor_source", "anchor_id", "records", "description").unique()
    ordered = clusters.sort(["records", "anchor_source", "anchor_id"], descending=[True, False, False])
    return ordered["description"].head(SUSPICIOUS_LISTED).to_list()


def _pair_nodes(records: pl.DataFrame, pair_links: pl.DataFrame | None) -> pl.DataFrame:
    """Probabilistic links as (left, right) record nodes, with probability and rule."""
    schema = {"left": pl.Int64, "right": pl.Int64, "match_probability": pl.Float64, "rule": pl.String}
    if pair_links is None or pair_links.is_empty():
        return pl.DataFrame(schema=schema)
    nodes = records.select("record_source", "record_id", "node")
    return (
        pair_links.join(nodes, left_on=["source_a", "id_a"], right_on=["record_source", "record_id"])
        .rename({"node": "left"})
        .join(nodes, left_on=["source_b", "id_b"], right_on=["record_source", "record_id"])
        .rename({"node": "right"})
        .select("left", "right", "match_probability", "rule")
        .cast(schema)
    )
