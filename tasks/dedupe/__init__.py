"""Dedupe stage: resolve records of the same person, within and across sources, into one customer.

Records are customer rows of customers sources, plus the customers that transactions, events
and feedback point at. Two records are the same customer when they share a normalized email,
phone, hashed national id or device id (placeholders and over-shared values never match), or when
the probabilistic matcher links them. The stage in data-flow order:

- lookups: raw -> normalized values (normalize); then the SQL models core.customer_records, the core
  fact views and core.record_observations;
- scoring: the probabilistic matcher (comparisons, blocking, training) over customer records;
- graph: exact links and pair links, clusters as connected components, a size guard;
- ids: each cluster's stable customer_id (kept across runs, merges and splits recorded);
- golden: core.customers, the golden record.
"""

from dataclasses import asdict, dataclass
from datetime import date

import polars as pl
from prefect import get_run_logger, task

from tasks.dedupe.golden import build_customers
from tasks.dedupe.graph import RecordClusters, link_records
from tasks.dedupe.ids import assign_customer_ids, latest_identity_run
from tasks.dedupe.lookups import build_attribute_lookups, build_lookups, build_source_links
from tasks.dedupe.scoring import match_records
from tasks.shared.artifacts import record_counts
from tasks.shared.config import PipelineConfig
from tasks.shared.contracts import DEFAULT_BLOCKING, FACT_KINDS, ID_FIELDS
from tasks.shared.errors import STAGE_TASK_OPTIONS
from tasks.shared.warehouse import Warehouse


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


def customer_match_records(wh: Warehouse) -> pl.DataFrame:
    """Customer records with the fields the probabilistic matcher compares, one row per record.

    Only records observed as of the cutoff (in core.record_observations), in record order: the
    matcher's random pairs (u) depend on the order, so runs are reproducible.
    """
    return wh.frame(wh.model_sql("core/match_records"))


def probabilistic_links(
    records: pl.DataFrame, config: PipelineConfig, wh: Warehouse | None = None
) -> tuple[pl.DataFrame, int]:
    """Pairs of records that the Fellegi-Sunter matcher links (source_a, id_a, source_b, id_b, ...).

    wh: where the matcher's blocking joins run (the warehouse: its memory limit).
    """
    settings = config.dedupe
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    outcome = match_records(
        numbered.drop("record_source", "record_id"),
        threshold=settings.match_threshold,
        rules=settings.blocking_rules or DEFAULT_BLOCKING,
        max_block_size=settings.max_block_size,
        wh=wh,
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


def resolve_records(wh: Warehouse, config: PipelineConfig) -> tuple[RecordClusters, int, int]:
    """Cluster the records of core.record_observations: exact keys, then probabilistic links.

    Returns the clusters, the candidate pairs the matcher compared and the links it made.
    """
    settings = config.dedupe
    candidates, links = 0, None
    if settings.probabilistic:
        records = customer_match_records(wh)
        links, candidates = probabilistic_links(records, config, wh)
        del records
    wh.run("core/graph/observations")  # the _observations view: record_observations and hashed national ids
    clustered = link_records("_observations", settings.max_key_records, links, settings.max_cluster_size, wh)
    wh.execute("drop view _observations")  # (a failed statement above rolls the whole transaction back)
    return clustered, candidates, 0 if links is None else links.height


def dedupe_all(wh: Warehouse, config: PipelineConfig, as_of: date, run_id: str | None = None) -> DedupeResult:
    """Build core.identity_map and core.customers from staging, using only records seen by the end of as_of."""
    cutoff = wh.cutoff(as_of)  # observations at or after the end of as_of are not used
    with wh.transaction():
        build_lookups(wh, config)
        build_attribute_lookups(wh, config, as_of)
        build_source_links(wh, config)
        # each customer record's version valid at the cutoff (staging.customers keeps every version)
        wh.build("core.customer_records", "core/customer_records", {"cutoff": cutoff})
        for kind in FACT_KINDS:
            wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": ID_FIELDS[kind]})
        wh.build("core.record_observations", "core/record_observations", {"cutoff": cutoff})
        clustered, candidates, link_count = resolve_records(wh, config)
        # the frames of the matcher and the clusters are gone before the SQL models below run
        components = assign_customer_ids(wh, clustered.records, as_of, run_id)
        overshared, suspicious = clustered.overshared, clustered.suspicious
        del clustered
        wh.write_frame("record_components", components, temp=True)
        del components
        wh.build("core.identity_map", "core/identity_map")
        wh.execute("drop table record_components")
        build_customers(wh, config.dedupe.source_priority)
    stats = wh.select("core/identity_map_summary")[0]
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
        result = dedupe_all(wh, config, as_of, run_id)
        ids = latest_identity_run(wh)
    record_counts(
        "dedupe",
        [
            {"count": "customer records", "value": result.records},
            {"count": "customers", "value": result.customers},
            {"count": "merged records", "value": result.merged_records},
            {"count": "records merged by a probabilistic link only", "value": result.probabilistic_records},
            {"count": "largest cluster", "value": result.largest_cluster},
            {"count": "candidate pairs", "value": result.candidate_pairs},
            {"count": "probabilistic links", "value": result.probabilistic_links},
            {"count": "over-shared keys (not linked on)", "value": len(result.overshared_keys)},
            {"count": "suspicious clusters (re-split)", "value": len(result.suspicious_clusters)},
            {"count": "new customer ids", "value": ids["new_customers"]},
            {"count": "customer ids merged away", "value": ids["merges"]},
            {"count": "customer ids split off", "value": ids["splits"]},
        ],
        f"dedupe as of {as_of} ({ids['mode']} run): records, customers and links",
    )
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
