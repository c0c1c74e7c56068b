"""Dedupe stage: resolve records of the same person, within and across sources, into one customer.

Records are customer rows of customers sources, plus the customers that transactions, events
and feedback point at. Two records are the same customer when they share a normalized email,
phone or device id (exact matching; placeholders and over-shared values never match).
Clusters are the connected components of the record–identifier graph; tasks/identity.py gives
each cluster its stable customer_id (kept across runs, merges and splits recorded).
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

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
from tasks.normalize import normalize_devices, normalize_emails_with_rules, normalize_phone, normalize_phones
from tasks.warehouse import Warehouse

FACT_KINDS = ("transactions", "events", "feedback")
# Match keys in priority order: the first shared one names the rule that merged a record.
MATCH_KEYS = ("email_norm", "phone_norm", "device_id")
MATCH_RULES = {"email_norm": "exact:email", "phone_norm": "exact:phone", "device_id": "exact:device_id"}


@dataclass(frozen=True)
class DedupeResult:
    """What one dedupe run found."""

    records: int
    customers: int
    merged_records: int
    largest_cluster: int
    overshared_keys: list[str]


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
    """Connected components of records linked by shared keys.

    observations: record_source, record_id, email_norm, phone_norm, device_id, first_seen.
    Returns one row per record (record_source, record_id, component, first_seen, match_rule) and
    the keys that were not used because more than max_key_records records share them.
    """
    records = (
        observations.group_by("record_source", "record_id")
        .agg(
            first_seen=pl.when(pl.col("first_seen").is_null().any())
            .then(None)
            .otherwise(pl.col("first_seen").min())
        )
        .sort("record_source", "record_id")
        .with_row_index("node")
    )
    keyed = observations.join(
        records.select("record_source", "record_id", "node"), on=["record_source", "record_id"]
    )
    edges = pl.concat(
        [
            keyed.select("node", key=pl.lit(column), value=pl.col(column)).drop_nulls("value")
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
    )
    links = edges.join(shared.select("key", "value", "key_node"), on=["key", "value"])
    size = records.height + shared.height
    graph = coo_matrix(
        (np.ones(links.height, dtype=np.int8), (links["node"].to_numpy(), links["key_node"].to_numpy())),
        shape=(size, size),
    )
    _, labels = connected_components(graph, directed=False)
    rules = (
        links.with_columns(priority=pl.col("key").replace_strict({k: i for i, k in enumerate(MATCH_KEYS)}))
        .group_by("node")
        .agg(pl.col("key").sort_by("priority").first())
        .with_columns(match_rule=pl.col("key").replace_strict(MATCH_RULES))
    )
    result = (
        records.with_columns(component=pl.Series(labels[: records.height]))
        .join(rules.select("node", "match_rule"), on="node", how="left")
        .with_columns(pl.col("match_rule").fill_null("singleton"))
        .select("record_source", "record_id", "component", "first_seen", "match_rule")
    )
    described = [
        f"{row['key']}={row['value']} ({row['records']} records)"
        for row in overshared.head(20).iter_rows(named=True)
    ]
    return result, described


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
        observations = wh.frame("select * from core.record_observations")
        components, overshared = cluster_records(observations, config.dedupe.max_key_records)
        components = assign_customer_ids(wh, components, as_of, run_id)
        wh.write_frame("record_components", components, temp=True)
        wh.build("core.identity_map", "core/identity_map")
        wh.execute("drop table record_components")
        wh.build("core.customers", "core/customers", {"source_priority": config.dedupe.source_priority})
    stats = wh.dicts(
        """
        select
            count(*) as records,
            count(distinct customer_id) as customers,
            count(*) filter (where match_rule <> 'singleton') as merged_records,
            coalesce(max(cluster_size), 0) as largest_cluster
        from core.identity_map
        """
    )[0]
    return DedupeResult(**stats, overshared_keys=overshared)


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
