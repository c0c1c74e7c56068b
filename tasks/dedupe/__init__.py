"""Dedupe stage: resolve records of the same person, within and across sources, into one customer.

Records are customer rows of customers sources, plus the customers that transactions, events
and feedback point at. Two records are the same customer when they share a normalized email,
phone, hashed national id or device id (placeholders and over-shared values never match), or when
the probabilistic matcher links them. The stage in data-flow order:

- lookups: raw -> normalized values (normalize); then the SQL models core.customer_records, the core
  fact views, core.fact_observations (kept up to date file by file: observations) and
  core.record_observations;
- scoring: the probabilistic matcher (comparisons, blocking, training) over customer records; model: the
  fitted matcher, stored (core.match_model) and refitted on a schedule; incremental: with the stored model,
  only records new or changed since the last run are paired (the links equal a full run's);
- graph: exact links and pair links, clusters as connected components, a size guard;
- ids: each cluster's stable customer_id (kept across runs, merges and splits recorded);
- golden: core.customers, the golden record (recomputed for the customers whose inputs changed).
"""

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import polars as pl
from prefect import get_run_logger, task

from tasks.dedupe.comparisons import build_comparisons
from tasks.dedupe.golden import build_customers, keep_previous, previous_usable
from tasks.dedupe.graph import RecordClusters
from tasks.dedupe.households import TWO_PEOPLE_SCHEMA, two_people_values
from tasks.dedupe.ids import assign_customer_ids, forward_run, latest_identity_run
from tasks.dedupe.incremental import MatcherRun, run_matcher
from tasks.dedupe.linking import cluster, open_graph
from tasks.dedupe.lookups import build_attribute_lookups, build_lookups, build_source_links
from tasks.dedupe.observations import refresh_fact_observations
from tasks.dedupe.records import refresh_records
from tasks.dedupe.references import unmatched_references
from tasks.dedupe.report import report_run
from tasks.dedupe.scoring import MatchOutcome, MatchSettings, PairScorer, match_records
from tasks.dedupe.shards import PARTS, ShardedScoring, parts_table
from tasks.dedupe.touched import (
    forget_graph,
    forget_touched,
    graph_problem,
    keep_graph,
    keep_links_before,
    people_rule,
    replace_identity_rows,
)
from tasks.shared import shards as sharding
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import FACT_KINDS, ID_FIELDS
from tasks.shared.errors import STAGE_TASK_OPTIONS, DataError
from tasks.shared.expressions import failed_sql
from tasks.shared.warehouse import Warehouse, quote_identifier


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
    two_people_keys: int  # key values two people hold, not linked on (tasks/dedupe/households.py)
    suspicious_clusters: list[str]  # clusters above max_cluster_size, and what was done with them
    blocking: list[dict] = field(default_factory=list)  # each candidate rule: rule, pairs counted, chosen
    one_to_one_dropped: int = 0  # links left out by the one-to-one constraint
    unreadable_values: dict[str, int] = field(default_factory=dict)  # per comparison: values read as missing
    # per field: records whose value is given but unusable (sql/core/unusable_values.sql)
    unusable_values: dict[str, int] = field(default_factory=dict)
    # per field (gender, national_id): customers whose records disagree on it, and the first of them
    # (sql/core/identity_conflicts_summary.sql): likely two people merged
    identity_conflicts: list[dict] = field(default_factory=list)
    unused_comparisons: list[str] = field(
        default_factory=list
    )  # configured comparisons no record has a value of
    matcher_mode: str = "off"  # refit | full (stored model, every pair) | incremental | off (no matcher)
    refitted: bool = False  # the matcher was fitted this run
    refit_reason: str | None = None  # why (tasks.dedupe.model.refit_reason)
    state_fallback: str | None = None  # why a run with the stored model could not be incremental
    changed_records: int = 0  # incremental: records new or changed since the matcher's state
    removed_records: int = 0  # incremental: records of the state gone or changed
    model_fitted_as_of: date | None = None  # the day the model scored with was fitted as of
    observations_rebuilt: str | None = (
        None  # why core.fact_observations was rebuilt (None: new files folded in)
    )
    records_rebuilt: str | None = None  # why core.customer_records was built whole (None: in place)
    touched_records: int | None = None  # records re-resolved (in whole components); None: every record
    graph_fallback: str | None = None  # why every record was linked (None: the touched ones only)
    unmatched_refs: list[str] = field(default_factory=list)  # fact sources whose refs mostly match no record
    shards: dict[int, str] = field(default_factory=dict)  # how each pair shard ran (a lake's shards)


def match_settings(config: PipelineConfig) -> MatchSettings:
    """The matcher's settings from the dedupe config."""
    settings = config.dedupe
    return MatchSettings(
        threshold=settings.match_threshold,
        comparisons=build_comparisons(settings.comparisons),
        rules=settings.blocking_rules,
        max_block_size=settings.max_block_size,
        max_candidate_pairs=settings.max_candidate_pairs,
        link_type=settings.link_type,
        person_conflicts=settings.person_conflicts,
    )


def _match_columns_frame(wh: Warehouse, source: SourceConfig, columns: dict[str, str]) -> pl.DataFrame:
    """core/match_columns for one source: record_source, record_id and a column per SQL expression
    (the config's match_columns expressions, checked by check_expression, wrapped by the callers)."""
    fragment = ",\n        ".join(f"{sql} as {quote_identifier(name)}" for name, sql in columns.items())
    sql = wh.model_sql(
        "core/match_columns", identifiers={"raw_table": f"raw.{source.name}"}, fragments={"columns": fragment}
    )
    return wh.frame(sql, {"source": source.name})


def read_match_records(
    wh: Warehouse, config: PipelineConfig | None = None
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Customer records with the fields the probabilistic matcher compares, one row per record, and per
    source.match_column the records whose expression failed (null) although a column it reads has a value
    (a date in another layout than its strptime, a text that is no number) — one read of each raw table.

    Only records observed as of the cutoff (in core.record_observations), in record order: the
    matcher's random pairs (u) depend on the order, so runs are reproducible. With a config, the
    match columns of its customers sources too (null for the records of sources without them, and
    where the expression fails on a row).
    """
    records = wh.frame(wh.model_sql("core/match_records"))
    extra, failed = [], {}
    for source in config.sources if config else []:
        if source.kind != "customers" or not source.match_columns:
            continue
        columns = {name: f"try({sql}\n)" for name, sql in source.match_columns.items()}
        flags = {f"_failed_{name}": f"{failed_sql(sql)}::int" for name, sql in source.match_columns.items()}
        frame = _match_columns_frame(wh, source, columns | flags)
        for name in source.match_columns:
            count = int(frame[f"_failed_{name}"].sum() or 0)
            if count:
                failed[f"{source.name}.{name}"] = count
        extra.append(frame.drop(*flags))
    if not extra:
        return records, failed
    attributes = pl.concat(extra, how="diagonal_relaxed")
    joined = records.join(attributes, on=["record_source", "record_id"], how="left", maintain_order="left")
    return joined, failed


def customer_match_records(wh: Warehouse, config: PipelineConfig | None = None) -> pl.DataFrame:
    """The records of read_match_records: canonical fields and match columns, one row per record."""
    return read_match_records(wh, config)[0]


def unreadable_match_columns(wh: Warehouse, config: PipelineConfig) -> dict[str, int]:
    """The failures of read_match_records: per source.match_column, records whose expression failed."""
    return read_match_records(wh, config)[1]


def one_to_one(links: pl.DataFrame, sources: list[list[str]]) -> pl.DataFrame:
    """links with, between each named pair of sources, every record in at most one link: the best
    scoring first (match_probability, then match_weight), a link to a record already taken is dropped."""
    if not sources or links.is_empty():
        return links
    constrained = pl.lit(False)
    for a, b in sources:
        constrained |= ((pl.col("source_a") == a) & (pl.col("source_b") == b)) | (
            (pl.col("source_a") == b) & (pl.col("source_b") == a)
        )
    ranked = links.with_columns(_constrained=constrained).with_row_index("_link")
    candidates = ranked.filter("_constrained").sort(
        ["match_probability", "match_weight", "_link"], descending=[True, True, False]
    )
    taken: set[tuple[str, str]] = set()
    kept = []
    for link, source_a, id_a, source_b, id_b in candidates.select(
        "_link", "source_a", "id_a", "source_b", "id_b"
    ).iter_rows():
        # a record is taken per counterpart source: one link to the other side of each named pair
        left, right = (source_a, id_a, source_b), (source_b, id_b, source_a)
        if left in taken or right in taken:
            continue
        taken.update((left, right))
        kept.append(link)
    keep = ~pl.col("_constrained") | pl.col("_link").is_in(pl.Series(kept, dtype=pl.UInt32).implode())
    return ranked.filter(keep).drop("_constrained", "_link")


def probabilistic_links(
    records: pl.DataFrame,
    config: PipelineConfig,
    wh: Warehouse | None = None,
    outcome: MatchOutcome | None = None,
) -> tuple[pl.DataFrame, MatchOutcome]:
    """Pairs of records that the Fellegi-Sunter matcher links (source_a, id_a, source_b, id_b, ...),
    after the one-to-one constraint, and the matcher's outcome.

    wh: where the matcher's blocking joins run (the warehouse: its memory limit). outcome: the matcher's
    outcome over these records already (tasks.dedupe.incremental.run_matcher); default: a fit.
    """
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    if outcome is None:
        groups = numbered["record_source"].cast(pl.Categorical).to_physical().to_numpy()
        outcome = match_records(
            numbered.drop("record_source", "record_id"), settings=match_settings(config), wh=wh, groups=groups
        )
    ids = numbered.select("node", "record_source", "record_id")
    # in pair order (left, right nodes: record order), so that one_to_one breaks ties the same every run
    links = (
        outcome.links.sort("left", "right")
        .join(
            ids.rename({"node": "left", "record_source": "source_a", "record_id": "id_a"}),
            on="left",
            maintain_order="left",
        )
        .join(
            ids.rename({"node": "right", "record_source": "source_b", "record_id": "id_b"}),
            on="right",
            maintain_order="left",
        )
        .drop("left", "right")
    )
    links = one_to_one(links, config.dedupe.one_to_one)
    return links.select(
        "source_a", "id_a", "source_b", "id_b", pl.exclude("source_a", "id_a", "source_b", "id_b")
    ), outcome


@dataclass(frozen=True)
class Resolution:
    """Clusters of one dedupe run, and what the matcher did: DedupeResult's matcher fields (candidate_pairs,
    probabilistic_links, blocking, one_to_one_dropped, unreadable_values, unused_comparisons)."""

    clusters: RecordClusters
    matcher: dict[str, Any]


def resolve_records(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date | None = None,
    refit: bool = False,
    rebuild: bool = False,
    touched: bool = False,
    scorer: PairScorer | None = None,
) -> Resolution:
    """Cluster the records of core.record_observations: exact keys, then probabilistic links.

    The matcher is fitted when due (tasks.dedupe.model.refit_reason; always without as_of) and otherwise
    scores with the stored model, incrementally where its state serves (tasks.dedupe.incremental): the
    links are those of a full run with the model either way. The matcher's parameters, links and each
    link's evidence go to core.match_* (tasks.dedupe.explain).

    touched: cluster only the records whose component may have changed since the last run (the kept graph
    serves: tasks.dedupe.touched; _changed_records built); the clusters are theirs, in whole components.
    scorer: scores the candidate pairs when the matcher compares every one (tasks.dedupe.shards).
    """
    from tasks.dedupe.explain import store_match_evidence  # here: explain imports this package

    settings, match = config.dedupe, match_settings(config)
    links, outcome, dropped, failed = None, None, 0, {}
    run: MatcherRun | None = None
    records: pl.DataFrame | None = None
    if touched:
        keep_links_before(wh)
    if settings.probabilistic:
        records, failed = read_match_records(wh, config)
        run = run_matcher(
            wh,
            records,
            match,
            as_of or config.today(),
            settings.refit_every_days,
            settings.refit_drift,
            refit=refit or as_of is None,
            rebuild=rebuild,
            scorer=scorer,
        )
        links, outcome = probabilistic_links(records, config, wh, run.outcome)
        dropped = outcome.links.height - links.height
        store_match_evidence(wh, config, outcome, links, records)
    else:
        store_match_evidence(wh, config)  # empty: an earlier run's links do not linger
    holders = open_graph(wh, touched)  # after the matcher (its memory peak): every record's key values
    two_people = pl.DataFrame(schema=TWO_PEOPLE_SCHEMA)
    if match.conflict is not None:  # the values two people hold, with or without the matcher
        if records is None:
            records = read_match_records(wh, config)[0]
        two_people = two_people_values(
            wh, holders, records, match.comparisons, match.conflict, settings.max_key_records
        )
    del records
    pair_links = (
        None
        if links is None
        else links.select("source_a", "id_a", "source_b", "id_b", "match_probability", "rule")
    )
    # (a failed statement rolls the whole transaction back)
    clustered, touched_records = cluster(wh, settings, pair_links, two_people, touched)
    matcher = {
        "candidate_pairs": outcome.candidate_pairs if outcome else 0,
        "probabilistic_links": 0 if links is None else links.height,
        "blocking": [asdict(rule) for rule in outcome.blocking] if outcome else [],
        "one_to_one_dropped": dropped,
        "unreadable_values": failed | (outcome.unreadable if outcome else {}),
        "unused_comparisons": outcome.unused if outcome else [],
        "touched_records": touched_records,
        **(run.summary() if run else {}),
    }
    return Resolution(clusters=clustered, matcher=matcher)


def dedupe_all(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date,
    run_id: str | None = None,
    *,
    refit: bool = False,
    rebuild: bool = False,
    shard_plan: sharding.ShardPlan | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> DedupeResult:
    """Build core.identity_map and core.customers from staging, using only records seen by the end of as_of.

    refit: fit the probabilistic matcher again even when the stored model is not due for a refit.
    rebuild: compute what is kept from run to run from scratch (a full refresh): every candidate pair
    scored with the stored model, and every golden record; the results are those of an incremental run.
    shard_plan: when the matcher compares every candidate pair, it scores them in the plan's shards (a lake's
    `shards`; tasks.dedupe.shards); `shards` in the result says how each ran.
    """
    if as_of > config.today() + timedelta(days=1):
        raise DataError(
            f"as_of {as_of} is in the future (today is {config.today()} in {config.timezone}): records are "
            "resolved as they were seen by the end of a day that has begun"
        )
    match = match_settings(config)
    if config.dedupe.person_conflicts and match.conflict is None:
        (logger or logging.getLogger(__name__)).warning(
            "dedupe.person_conflicts is on, but no comparison of the given name (kind name) stands beside one of "
            "the sex (kind exact), the birth date (kind birth_date) or one set person_conflict (an age): records of "
            "two people are not kept apart"
        )
    # what decides the values two people hold, kept with the record graph: a change links every record again
    rule = people_rule(match.conflict, match.comparisons)
    cutoff = wh.cutoff(as_of)  # observations at or after the end of as_of are not used
    PARTS.drop_stale(wh)  # the pair shards' work tables of a killed run (tasks.dedupe.shards)
    with wh.transaction():
        build_lookups(wh, config)
        build_attribute_lookups(wh, config, as_of)
        build_source_links(wh, config)
        # the golden record is brought up to date customer by customer when the last run's inputs can be kept
        golden_incremental = not rebuild and previous_usable(wh, config.dedupe.source_priority)
        for kind in FACT_KINDS:
            wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": ID_FIELDS[kind]})
        observations_rebuilt = refresh_fact_observations(wh, config, rebuild) or None
        # each customer record's version valid at the cutoff (staging.customers keeps every version) and the
        # keys each record was seen with; with the last run's rows, what changed record by record
        # (_changed_records, read by the graph and the golden record)
        golden_incremental, records_rebuilt = refresh_records(
            wh, config, cutoff, golden_incremental, observations_rebuilt or ""
        )
        forward = forward_run(wh, as_of)
        graph_fallback = (
            "a full refresh links every record"
            if rebuild
            else "the last run's inputs are not kept"
            if not golden_incremental
            else graph_problem(
                wh,
                config.dedupe.max_key_records,
                config.dedupe.max_cluster_size,
                rule,
                forward,
            )
        )
        touched = graph_fallback is None
        scorer = (
            None
            if shard_plan is None
            else ShardedScoring(wh, shard_plan, logger or logging.getLogger(__name__))
        )
        resolution = resolve_records(wh, config, as_of, refit, rebuild, touched, scorer)
        # the frames of the matcher and the clusters are gone before the SQL models below run
        components = assign_customer_ids(wh, resolution.clusters.records, as_of, run_id, touched)
        overshared, suspicious = resolution.clusters.overshared, resolution.clusters.suspicious
        two_people = resolution.clusters.two_people.height
        matcher = resolution.matcher
        # what keep_graph needs of a whole run's clusters: not their records (1.7M rows at 1M customers)
        whole = None if touched else replace(resolution.clusters, records=resolution.clusters.records.clear())
        del resolution
        wh.write_frame("record_components", components, temp=True)
        del components
        if touched:
            replace_identity_rows(wh)
            forget_touched(wh)
        else:
            if golden_incremental:
                keep_previous(wh, "core.identity_map")
            wh.build("core.identity_map", "core/identity_map")
            if golden_incremental:
                sides = {"after": "core.identity_map", "before": "core.identity_map_before"}
                wh.build("_identity_changed", "core/identity_changed", temp=True, identifiers=sides)
        wh.execute("drop table record_components")
        if forward:
            keep_graph(
                wh,
                whole,
                config.dedupe.max_key_records,
                config.dedupe.max_cluster_size,
                rule,
                as_of,
            )
        else:
            forget_graph(wh)
        del whole
        build_customers(wh, config.dedupe.source_priority, golden_incremental)
    unmatched = unmatched_references(wh, "_fact_observation_file_changes")  # the new files' references
    wh.execute("drop table _fact_observation_file_changes")
    stats = wh.select("core/identity_map_summary")[0]
    unusable = {row["field"]: row["records"] for row in wh.select("core/unusable_values")}
    conflicts = wh.select("core/identity_conflicts_summary")
    return DedupeResult(
        **stats,
        unusable_values=unusable,
        identity_conflicts=conflicts,
        **matcher,
        overshared_keys=overshared,
        two_people_keys=two_people,
        suspicious_clusters=suspicious,
        observations_rebuilt=observations_rebuilt,
        records_rebuilt=records_rebuilt or None,
        graph_fallback=graph_fallback,
        unmatched_refs=unmatched,
        shards={} if scorer is None else scorer.runs.ran,
    )


def require_customers(wh: Warehouse, result: DedupeResult, as_of: date) -> DedupeResult:
    """result, when the day has customers; else a DataError: a day before every source's rows (a backfill that
    starts too early) would publish empty files and say it succeeded."""
    if result.customers:
        return result
    firsts = [
        wh.scalar(f"select min({column}) from staging.{kind}")
        for kind, column in (
            ("customers", "valid_from"),
            ("transactions", "ts"),
            ("events", "ts"),
            ("feedback", "ts"),
        )
    ]
    known = [first for first in firsts if first is not None]
    raise DataError(
        f"no customer is known as of {as_of}, so there is nothing to publish: "
        + (
            f"the sources' staged rows begin on {min(known).date()}; run a day from then on"
            if known
            else "no source has a staged row yet (segments check --config PATH says what each source reads)"
        )
    )


@task(name="dedupe", **STAGE_TASK_OPTIONS)
def dedupe(
    config: PipelineConfig, as_of: date, run_id: str | None = None, refit: bool = False, rebuild: bool = False
) -> dict:
    """Resolve customer records seen by the end of as_of into customers (core.identity_map, core.customers)."""
    plan = sharding.plan(config, "dedupe", as_of, parts_table())
    with Warehouse.open(config) as wh:
        result = dedupe_all(
            wh, config, as_of, run_id, refit=refit, rebuild=rebuild, shard_plan=plan, logger=get_run_logger()
        )
        require_customers(wh, result, as_of)
        ids = latest_identity_run(wh)
    report_run(result, ids, as_of)
    for shard, how in result.shards.items():
        get_run_logger().info("pair shard %d of %d: %s", shard + 1, len(result.shards), how)
    return asdict(result) | {"ids": ids}
