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

from tasks.attributes import build_attribute_lookups
from tasks.config import PipelineConfig
from tasks.errors import STAGE_TASK_OPTIONS
from tasks.extract import ID_FIELDS
from tasks.identity import assign_customer_ids, latest_identity_run
from tasks.match import DEFAULT_BLOCKING, MATCH_FIELDS, match_records, national_id_key_sql
from tasks.normalize import normalize_devices, normalize_emails_with_rules, normalize_phone, normalize_phones
from tasks.warehouse import Warehouse

FACT_KINDS = ("transactions", "events", "feedback")
# Match keys in priority order: the first shared one names the rule that merged a record.
MATCH_KEYS = ("email_norm", "phone_norm", "national_id", "device_id")
MATCH_RULES = {
    "email_norm": "exact:email",
    "phone_norm": "exact:phone",
    "national_id": "exact:national_id",
    "device_id": "exact:device_id",
}
# Where the matcher's fields (tasks.match.MATCH_FIELDS) come from in core.customer_records, when not the
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


def _describe_keys(links: pl.DataFrame, limit: int = 3) -> str:
    """The most shared key values of a set of record-key links, e.g. 'phone=+86... (12 records)'."""
    counts = (
        links.group_by("key", "value")
        .agg(records=pl.len())
        .sort(["records", "key", "value"], descending=[True, False, False])
        .head(limit)
    )
    return ", ".join(
        f"{row['key']}={row['value']} ({row['records']} records)" for row in counts.iter_rows(named=True)
    )


def link_records(
    observations: pl.DataFrame,
    max_key_records: int,
    pair_links: pl.DataFrame | None = None,
    max_cluster_size: int | None = None,
) -> Linkage:
    """Clusters of records: exact links through shared keys, then probabilistic pair links, with a size guard.

    observations: record_source, record_id, first_seen and any of MATCH_KEYS (missing ones count as null).
    pair_links: source_a, id_a, source_b, id_b, match_probability, rule (from tasks.match).
    A cluster of more than max_cluster_size records is re-split without its probabilistic links;
    a part still too large is kept as single records. Each such cluster is described in `suspicious`.
    """
    observations = observations.with_columns(
        pl.lit(None, dtype=pl.String).alias(k) for k in MATCH_KEYS if k not in observations.columns
    )
    records = (
        observations.group_by("record_source", "record_id")
        .agg(
            first_seen=pl.when(pl.col("first_seen").is_null().any())
            .then(None)
            .otherwise(pl.col("first_seen").min())
        )
        .sort("record_source", "record_id")
        .with_row_index("node")
        .with_columns(pl.col("node").cast(pl.Int64))
    )
    keyed = observations.join(
        records.select("record_source", "record_id", "node"), on=["record_source", "record_id"]
    )
    edges = pl.concat(
        [
            keyed.select("node", key=pl.lit(column), value=pl.col(column).cast(pl.String)).drop_nulls("value")
            for column in MATCH_KEYS
        ]
    ).unique()
    sharing = edges.group_by("key", "value").agg(records=pl.len())
    overshared = sharing.filter(pl.col("records") > max_key_records).sort(
        ["records", "key", "value"], descending=[True, False, False]
    )
    shared = (
        sharing.filter((pl.col("records") > 1) & (pl.col("records") <= max_key_records))
        .sort("key", "value")
        .with_row_index("key_node", offset=records.height)
        .with_columns(pl.col("key_node").cast(pl.Int64))
    )
    links = edges.join(shared.select("key", "value", "key_node"), on=["key", "value"])
    pairs = _pair_nodes(records, pair_links)
    size = records.height + shared.height

    def components(pair_edges: pl.DataFrame) -> np.ndarray:
        rows = np.concatenate([links["node"].to_numpy(), pair_edges["left"].to_numpy()])
        cols = np.concatenate([links["key_node"].to_numpy(), pair_edges["right"].to_numpy()])
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
                keys = _describe_keys(links.filter(pl.col("node").is_in(members.tolist())))
                suspicious.append(
                    f"cluster of {members.size} records: {action} after dropping {dropped} probabilistic "
                    f"links; most shared keys: {keys or 'none'}"
                )
    exact_rules = (
        links.with_columns(priority=pl.col("key").replace_strict({k: i for i, k in enumerate(MATCH_KEYS)}))
        .group_by("node")
        .agg(pl.col("key").sort_by("priority").first())
        .select("node", exact_rule=pl.col("key").replace_strict(MATCH_RULES), exact_score=pl.lit(1.0))
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
    described = [
        f"{row['key']}={row['value']} ({row['records']} records)"
        for row in overshared.head(20).iter_rows(named=True)
    ]
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
    if settings.probabilistic:  # before the observations are read: the two never take memory together
        records = customer_match_records(wh)
        links, candidates = probabilistic_links(records, config, wh.con)
        del records
    observations = wh.frame("select * from core.record_observations")
    national_ids = wh.frame(
        f"select source as record_source, source_id as record_id, {national_id_key_sql('national_id')} "
        "as national_id from core.customer_records where national_id is not null"
    )
    observations = observations.join(national_ids, on=["record_source", "record_id"], how="left")
    linkage = link_records(observations, settings.max_key_records, links, settings.max_cluster_size)
    return linkage, candidates, 0 if links is None else links.height


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
        wh.build("core.customers", "core/customers", {"source_priority": config.dedupe.source_priority})
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


def pairwise_scores(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against ground truth.

    predicted: item, cluster; truth: item, entity. Items in only one of them are ignored.
    A pair of items is a true match when they share an entity, predicted when they share a cluster.
    """
    both = predicted.join(truth, on="item", how="inner")

    def pairs(*keys: str) -> int:
        counts = both.group_by(*keys).len()["len"]
        return int((counts * (counts - 1) // 2).sum())

    found, actual, correct = pairs("cluster"), pairs("entity"), pairs("cluster", "entity")
    precision = correct / found if found else 1.0
    recall = correct / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "items": both.height,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": actual,
        "predicted_pairs": found,
        "correct_pairs": correct,
    }
