"""Dedupe stage: resolve records of the same person, within and across sources, into one customer.

Records are customer rows of customers sources, plus the customers that transactions, events
and feedback point at. Two records are the same customer when they share a normalized email,
phone or device id (exact matching; placeholders and over-shared values never match).
Clusters are the connected components of the record–identifier graph; tasks/identity.py gives
each cluster its stable customer_id (kept across runs, merges and splits recorded).
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
from prefect import get_run_logger, task
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tasks.dedupe.ids import assign_customer_ids, latest_identity_run
from tasks.dedupe.lookups import build_attribute_lookups
from tasks.dedupe.matcher import MATCH_FIELDS, match_records, national_id_key_sql
from tasks.dedupe.normalize import (
    normalize_devices,
    normalize_emails_with_rules,
    normalize_phone,
    normalize_phones,
)
from tasks.shared.config import PipelineConfig
from tasks.shared.contracts import DEFAULT_BLOCKING, FACT_KINDS, ID_FIELDS
from tasks.shared.errors import STAGE_TASK_OPTIONS
from tasks.shared.warehouse import Warehouse, quote_identifier

# Match keys in priority order: the first shared one names the rule that merged a record.
MATCH_KEYS = ("email_norm", "phone_norm", "national_id", "device_id")
MATCH_RULES = {
    "email_norm": "exact:email",
    "phone_norm": "exact:phone",
    "national_id": "exact:national_id",
    "device_id": "exact:device_id",
}
# Where the matcher's fields (tasks.dedupe.matcher.MATCH_FIELDS) come from in core.customer_records, when not the
# same-named column. The birth date is the normalized one: placeholder dates (1900-01-01, 1970-01-01,
# after as_of ...) are null there and never count as evidence.
MATCH_FIELD_SQL = {"birth_date": "birth_date_norm as birth_date"}


@dataclass(frozen=True)
class DedupeResult:
    """What one dedupe run found."""

    records: int
    customers: int
    merged_records: int
    probabilistic_records: int  # merged by a probabilistic link only
    largest_cluster: int
    candidate_pairs: int  # pairs the blocking rules proposed to the probabilistic matcher
    probabilistic_links: int  # of those, pairs at or above the match threshold
    overshared_keys: list[str]
    suspicious_clusters: list[str]  # clusters above max_cluster_size, and what was done with them


def build_lookups(wh: Warehouse, config: PipelineConfig) -> None:
    """Write core.{email,phone,device}_lookup: every distinct raw value and its normalized form (null: unusable)."""
    region = config.dedupe.default_region
    typed = [p.strip() for p in config.dedupe.placeholders]
    # a configured placeholder is compared in normalized form: 13912345678 matches +8613912345678
    placeholders = frozenset(
        [p.lower() for p in typed] + [e164 for p in typed if (e164 := normalize_phone(p, region)) is not None]
    )
    providers = tuple(config.dedupe.email_provider_rules)

    def normalize_emails(values: pl.Series, placeholders: frozenset[str]) -> pl.Series:
        return normalize_emails_with_rules(values, placeholders, providers)

    lookups = (("email", "email", normalize_emails), ("phone", "phone", normalize_phones))
    for field, column, normalize in (*lookups, ("device", "device_id", normalize_devices)):
        union = " union ".join(
            f"select {column} as raw from staging.{kind}" for kind in ("customers", *FACT_KINDS)
        )
        raw = wh.frame(f"select raw from ({union}) where raw is not null")["raw"]
        norm = normalize(raw, region, placeholders) if field == "phone" else normalize(raw, placeholders)
        wh.write_frame(f"core.{field}_lookup", pl.DataFrame({"raw": raw, "norm": norm}))


def build_source_links(wh: Warehouse, config: PipelineConfig) -> None:
    """Write core.source_links: which customers source each source's customer_ref points into."""
    wh.execute("create or replace table core.source_links (source varchar, customer_source varchar)")
    for source in config.sources:
        wh.execute("insert into core.source_links values (?, ?)", [source.name, source.customer_source])


def cluster_records(observations: pl.DataFrame, max_key_records: int) -> tuple[pl.DataFrame, list[str]]:
    """Connected components of records linked by shared keys only (no probabilistic links, no size guard).

    observations: record_source, record_id, email_norm, phone_norm, device_id, first_seen.
    Returns one row per record (record_source, record_id, component, first_seen, match_rule) and
    the keys that were not used because more than max_key_records records share them.
    """
    linkage = link_records(observations, max_key_records)
    return linkage.records.drop("match_score"), linkage.overshared


@dataclass(frozen=True)
class Linkage:
    """Records with their cluster, and what was not used or not trusted on the way."""

    records: pl.DataFrame  # record_source, record_id, component, first_seen, match_rule, match_score
    overshared: list[str]
    suspicious: list[str]


def link_records(
    observations: pl.DataFrame | str,
    max_key_records: int,
    pair_links: pl.DataFrame | None = None,
    max_cluster_size: int | None = None,
    database: duckdb.DuckDBPyConnection | None = None,
) -> Linkage:
    """Clusters of records: exact links through shared keys, then probabilistic pair links, with a size guard.

    observations: record_source, record_id, first_seen and any of MATCH_KEYS (missing ones count as
    null): a frame, or the name of a table or view of `database` (e.g. the warehouse connection, inside
    its transaction). The keys are grouped in DuckDB (bounded by its memory limit, spilling when it
    must); only integer edges come to Python for the graph.
    pair_links: source_a, id_a, source_b, id_b, match_probability, rule (from tasks.dedupe.matcher).
    A cluster of more than max_cluster_size records is re-split without its probabilistic links;
    a part still too large is kept as single records. Each such cluster is described in `suspicious`.
    """
    con = database if database is not None else duckdb.connect()
    try:
        if isinstance(observations, pl.DataFrame):
            con.register("_link_frame", observations)
            relation = "_link_frame"
        else:
            relation = quote_identifier(observations)
        linkage = _link(con, relation, max_key_records, pair_links, max_cluster_size)
        for table in ("_link_records", "_link_keys", "_link_shared", "_link_links"):
            con.execute(f"drop table {table}")
        return linkage
    finally:  # no SQL here: after a failed statement a transaction only accepts a rollback
        if database is None:
            con.close()
        elif isinstance(observations, pl.DataFrame):
            con.unregister("_link_frame")


def _link(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    max_key_records: int,
    pair_links: pl.DataFrame | None,
    max_cluster_size: int | None,
) -> Linkage:
    """link_records over a relation of con."""
    present = {row[0] for row in con.execute(f"select column_name from (describe {relation})").fetchall()}
    keys = [key for key in MATCH_KEYS if key in present]
    # records numbered in (record_source, record_id) order: the graph's first nodes
    con.execute(
        f"""
        create or replace temp table _link_records as
        select
            row_number() over (order by record_source, record_id) - 1 as node,
            record_source,
            record_id,
            case when bool_or(first_seen is null) then null else min(first_seen) end as first_seen
        from {relation}
        group by record_source, record_id
        """
    ).fetchall()
    records = con.sql("select * from _link_records order by node").pl()
    # one row per record and key value it was seen with (UNPIVOT leaves out the nulls)
    edges = (
        f"""
        select distinct node, key, value from (
            unpivot (
                select records.node, {", ".join(f"cast(o.{key} as varchar) as {key}" for key in keys)}
                from {relation} as o join _link_records as records using (record_source, record_id)
            )
            on {", ".join(keys)} into name key value value
        )
        """
        if keys
        else "select null::bigint as node, null::varchar as key, null::varchar as value where false"
    )
    con.execute(f"create or replace temp table _link_edges as {edges}").fetchall()
    # the records sharing each key value (counted once); a value shared by 2..max_key_records records
    # is a node of the graph too, numbered after the records; one shared by more is too common to link on
    con.execute(
        """
        create or replace temp table _link_keys as
        select key, value, count(*) as records from _link_edges group by key, value having count(*) > 1
        """
    ).fetchall()
    con.execute(
        """
        create or replace temp table _link_shared as
        select key, value, $offset + row_number() over (order by key, value) - 1 as key_node
        from _link_keys where records <= $max
        """,
        {"offset": records.height, "max": max_key_records},
    ).fetchall()
    # each record's links to the shared key values it has (the graph's edges and the exact rules)
    con.execute(
        """
        create or replace temp table _link_links as
        select edges.node, edges.key, shared.key_node
        from _link_edges as edges join _link_shared as shared using (key, value)
        """
    ).fetchall()
    con.execute("drop table _link_edges")
    shared_count = con.execute("select count(*) from _link_shared").fetchall()[0][0]
    overshared = con.execute(
        "select key, value, records from _link_keys where records > $max order by records desc, key, value limit 20",
        {"max": max_key_records},
    ).fetchall()
    priority = " ".join(f"when '{key}' then {i}" for i, key in enumerate(MATCH_KEYS))
    exact_rules = con.sql(
        f"select node, arg_min(key, case key {priority} end) as exact_rule from _link_links group by node"
    ).pl()
    exact_rules = exact_rules.select(
        "node", exact_rule=pl.col("exact_rule").replace_strict(MATCH_RULES), exact_score=pl.lit(1.0)
    )
    links = con.sql("select node, key_node from _link_links").pl()
    link_nodes, key_nodes = links["node"].to_numpy(), links["key_node"].to_numpy()
    del links

    def describe_keys(members: np.ndarray, limit: int = 3) -> str:
        """The most shared key values among some records, e.g. 'phone_norm=+86... (12 records)'."""
        rows = con.execute(
            """
            select shared.key, shared.value, count(*) as records
            from _link_links as links join _link_shared as shared using (key_node)
            where links.node in (select unnest($members::bigint[]))
            group by all order by records desc, shared.key, shared.value limit $limit
            """,
            {"members": members.tolist(), "limit": limit},
        ).fetchall()
        return ", ".join(f"{key}={value} ({count} records)" for key, value, count in rows)

    pairs = _pair_nodes(records, pair_links)
    size = records.height + shared_count

    def components(pair_edges: pl.DataFrame) -> np.ndarray:
        rows = np.concatenate([link_nodes, pair_edges["left"].to_numpy()])
        cols = np.concatenate([key_nodes, pair_edges["right"].to_numpy()])
        graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(size, size))
        return connected_components(graph, directed=False)[1][: records.height]

    labels = components(pairs)
    suspicious: list[str] = []
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
            for component in big[np.argsort(-sizes[big], kind="stable")][:20]:
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
                suspicious.append(
                    f"cluster of {members.size} records: {action} after dropping {dropped} probabilistic "
                    f"links; most shared keys: {keys or 'none'}"
                )
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
    described = [f"{key}={value} ({count} records)" for key, value, count in overshared]
    return Linkage(result, described, suspicious)


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


def customer_match_records(wh: Warehouse) -> pl.DataFrame:
    """Customer records with the fields the probabilistic matcher compares, one row per record.

    Only records observed as of the cutoff (in core.record_observations), in record order: the
    matcher's random pairs (u) depend on the order, so runs are reproducible.
    """
    fields = ", ".join(MATCH_FIELD_SQL.get(field, field) for field in MATCH_FIELDS)
    return wh.frame(
        f"select source as record_source, source_id as record_id, {fields} from core.customer_records "
        "where (source, source_id) in (select record_source, record_id from core.record_observations) "
        "order by source, source_id"
    )


def probabilistic_links(
    records: pl.DataFrame, config: PipelineConfig, database: duckdb.DuckDBPyConnection | None = None
) -> tuple[pl.DataFrame, int]:
    """Pairs of records that the Fellegi-Sunter matcher links (source_a, id_a, source_b, id_b, ...).

    database: where the matcher's blocking joins run (the warehouse connection: its memory limit).
    """
    settings = config.dedupe
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    outcome = match_records(
        numbered.drop("record_source", "record_id"),
        threshold=settings.match_threshold,
        rules=settings.blocking_rules or DEFAULT_BLOCKING,
        max_block_size=settings.max_block_size,
        database=database,
    )
    ids = numbered.select("node", "record_source", "record_id")
    links = (
        outcome.links.join(
            ids.rename({"node": "left", "record_source": "source_a", "record_id": "id_a"}), on="left"
        )
        .join(ids.rename({"node": "right", "record_source": "source_b", "record_id": "id_b"}), on="right")
        .select("source_a", "id_a", "source_b", "id_b", "match_probability", "rule")
    )
    return links, outcome.candidate_pairs


def resolve_records(wh: Warehouse, config: PipelineConfig) -> tuple[Linkage, int, int]:
    """Cluster the records of core.record_observations: exact keys, then probabilistic links.

    Returns the linkage, the candidate pairs the matcher compared and the links it made.
    """
    settings = config.dedupe
    candidates, links = 0, None
    if settings.probabilistic:
        records = customer_match_records(wh)
        links, candidates = probabilistic_links(records, config, wh.con)
        del records
    # the observations with the hashed national id of customer records (another exact key)
    wh.execute(
        f"""
        create or replace temp view _observations as
        select observations.*, national_ids.national_id
        from core.record_observations as observations
        left join (
            select source, source_id, {national_id_key_sql("national_id")} as national_id
            from core.customer_records where national_id is not null
        ) as national_ids
            on national_ids.source = observations.record_source and national_ids.source_id = observations.record_id
        """
    )
    linkage = link_records(
        "_observations", settings.max_key_records, links, settings.max_cluster_size, database=wh.con
    )
    wh.execute("drop view _observations")  # (a failed statement above rolls the whole transaction back)
    return linkage, candidates, 0 if links is None else links.height


def build_customers(wh: Warehouse, source_priority: list[str]) -> int:
    """Build core.customers, the golden record, from core.identity_map, customer_records and record_observations.

    Three statements (the per-field survivorship, the contact keys seen in any record, then the
    assembly): DuckDB can spill each to disk within its memory limit, where one statement joining the
    two aggregates ran out of memory at 10M customers. Returns the customers.
    """
    with wh.transaction():
        wh.build("customer_golden", "core/customer_golden", {"source_priority": source_priority}, temp=True)
        wh.build("customer_contacts", "core/customer_contacts", temp=True)
        customers = wh.build("core.customers", "core/customers")
        wh.execute("drop table customer_golden")
        wh.execute("drop table customer_contacts")
    return customers


def dedupe_all(
    wh: Warehouse, config: PipelineConfig, cutoff: datetime, run_id: str | None = None
) -> DedupeResult:
    """Build core.identity_map and core.customers from staging, using only records seen before cutoff."""
    as_of = (cutoff - timedelta(days=1)).date()
    with wh.transaction():
        build_lookups(wh, config)
        build_attribute_lookups(wh, config, as_of)
        build_source_links(wh, config)
        wh.build("core.customer_records", "core/customer_records")
        for kind in FACT_KINDS:
            wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": ID_FIELDS[kind]})
        wh.build("core.record_observations", "core/record_observations", {"cutoff": cutoff})
        linkage, candidates, link_count = resolve_records(wh, config)
        # the frames of the matcher and the linkage are gone before the SQL models below run
        components = assign_customer_ids(wh, linkage.records, as_of, run_id)
        overshared, suspicious = linkage.overshared, linkage.suspicious
        del linkage
        wh.write_frame("record_components", components, temp=True)
        del components
        wh.build("core.identity_map", "core/identity_map")
        wh.execute("drop table record_components")
        build_customers(wh, config.dedupe.source_priority)
    stats = wh.dicts(
        """
        select
            count(*) as records,
            count(distinct customer_id) as customers,
            count(*) filter (where match_rule <> 'singleton') as merged_records,
            count(*) filter (where match_rule like 'probabilistic:%') as probabilistic_records,
            coalesce(max(cluster_size), 0) as largest_cluster
        from core.identity_map
        """
    )[0]
    return DedupeResult(
        **stats,
        candidate_pairs=candidates,
        probabilistic_links=link_count,
        overshared_keys=overshared,
        suspicious_clusters=suspicious,
    )


@task(name="dedupe", **STAGE_TASK_OPTIONS)
def dedupe(config: PipelineConfig, as_of: date, run_id: str | None = None) -> dict:
    """Resolve customer records seen by the end of as_of into customers (core.identity_map, core.customers)."""
    with Warehouse.open(config) as wh:
        result = dedupe_all(wh, config, config.cutoff(as_of), run_id)
        ids = latest_identity_run(wh)
    get_run_logger().info(
        "%d customer records -> %d customers (%d records merged, largest cluster %d)",
        result.records,
        result.customers,
        result.merged_records,
        result.largest_cluster,
    )
    if result.suspicious_clusters:
        get_run_logger().warning(
            "%d clusters above max_cluster_size were not merged blindly: %s",
            len(result.suspicious_clusters),
            "; ".join(result.suspicious_clusters),
        )
    get_run_logger().info(
        "customer ids (%s run): %d new, %d merged away, %d split off",
        ids["mode"],
        ids["new_customers"],
        ids["merges"],
        ids["splits"],
    )
    return asdict(result) | {"ids": ids}
