"""Accuracy evidence for identity resolution: pairwise and cluster-level scores against ground truth.

`score_resolution` runs the ordinary stages (extract, then dedupe, as the daily refresh does) on a
config and scores the customer records' clusters (pairwise, and cluster by cluster: exact clusters and
B-cubed) against the true identities, which come
either from an SQL expression over each raw source row (FEBRL: the number inside rec_id) or from a
truth file of (source, record_id, person_id) rows (the generator's truth/records.csv).
"""

import resource
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from tasks.dedupe import DedupeResult, dedupe_all
from tasks.extract import extract_all
from tasks.shared.config import PipelineConfig
from tasks.shared.expressions import check_expression
from tasks.shared.warehouse import Warehouse, quote_identifier

# The customer records of customers sources (each once: its current version), and the customer each was
# resolved into.
PREDICTED_SQL = """
select m.source || ':' || m.source_id as item, m.customer_id as cluster
from core.identity_map as m
join staging.customers as c on c.source = m.source and c.source_id = m.source_id
where c.valid_to is null  -- the current version: one row per record
"""


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds (CPU: all threads of this process, user + system)."""

    wall_s: float
    cpu_s: float

    def text(self) -> str:
        """The two figures as one phrase: '1.2 s wall, 2.3 s CPU'."""
        return f"{self.wall_s:.1f} s wall, {self.cpu_s:.1f} s CPU"


class Stopwatch:
    """Measures wall and CPU time of a block: `with Stopwatch() as watch: ...; watch.timing`."""

    def __enter__(self) -> "Stopwatch":
        self._wall = time.perf_counter()
        self._cpu = _cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timing = Timing(time.perf_counter() - self._wall, _cpu_seconds() - self._cpu)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def truth_from_expression(wh: Warehouse, config: PipelineConfig, expression: str) -> pl.DataFrame:
    """item ('source:source_id'), entity: the expression evaluated on each customer record's raw row."""
    problem = check_expression(expression)
    if problem:
        raise ValueError(f"truth expression: {problem}")
    parts = [
        f"""
        select c.source || ':' || c.source_id as item, cast(({expression}) as varchar) as entity
        from staging.customers as c
        join {quote_identifier(f"raw.{source.name}")} as r on r._file = c._file and r._row = c._row
        where c.source = '{source.name}' and c.valid_to is null
        """
        for source in config.sources
        if source.kind == "customers"
    ]
    return wh.frame(" union all ".join(parts)).drop_nulls("entity")


def truth_from_file(path: Path) -> pl.DataFrame:
    """item, entity from a CSV of source, record_id, person_id rows (the generator's truth/records.csv)."""
    truth = pl.read_csv(path, infer_schema=False)
    missing = {"source", "record_id", "person_id"} - set(truth.columns)
    if missing:
        raise ValueError(f"{path}: truth file lacks columns {sorted(missing)}")
    return truth.select(item=pl.col("source") + ":" + pl.col("record_id"), entity="person_id")


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


def cluster_scores(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Cluster-level scores of a clustering against ground truth (items in only one of them are ignored).

    predicted: item, cluster; truth: item, entity. A predicted cluster is exact when it holds exactly the
    items of one true entity (singletons included): cluster precision is the share of predicted clusters
    that are exact, cluster recall the share of true entities recovered exactly. B-cubed averages over
    items: precision, the share of an item's predicted cluster that is its entity; recall, the share of
    its entity that is in its predicted cluster.
    """
    both = predicted.join(truth, on="item", how="inner")
    overlap = both.group_by("cluster", "entity").agg(shared=pl.len())
    overlap = overlap.join(both.group_by("cluster").agg(in_cluster=pl.len()), on="cluster").join(
        both.group_by("entity").agg(in_entity=pl.len()), on="entity"
    )
    items = both.height
    found = both["cluster"].n_unique()
    actual = both["entity"].n_unique()
    exact = overlap.filter(
        (pl.col("shared") == pl.col("in_cluster")) & (pl.col("shared") == pl.col("in_entity"))
    ).height
    shared = overlap["shared"].cast(pl.Float64)
    precision = float((shared * shared / overlap["in_cluster"]).sum()) / items if items else 1.0
    recall = float((shared * shared / overlap["in_entity"]).sum()) / items if items else 1.0
    return {
        "predicted_clusters": found,
        "true_clusters": actual,
        "exact_clusters": exact,
        "cluster_precision": exact / found if found else 1.0,
        "cluster_recall": exact / actual if actual else 1.0,
        "bcubed_precision": precision,
        "bcubed_recall": recall,
        "bcubed_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


@dataclass(frozen=True)
class ResolutionScore:
    """Pairwise and cluster scores of one resolution, with what dedupe reported and how long stages took."""

    scores: dict[str, float]
    dedupe: DedupeResult
    extract: Timing
    resolve: Timing
    clusters: dict[str, float] = field(default_factory=dict)


def score_resolution(
    config: PipelineConfig,
    as_of: date,
    truth_expression: str | None = None,
    truth_file: Path | None = None,
    run_id: str = "dedupe-score",
) -> ResolutionScore:
    """Extract and dedupe as the daily refresh does, then score the records against ground truth (pairs, clusters)."""
    if (truth_expression is None) == (truth_file is None):
        raise ValueError("give exactly one of truth_expression or truth_file")
    with Warehouse.open(config) as wh:
        with Stopwatch() as extracting:
            extract_all(wh, config, run_id)
        with Stopwatch() as resolving:
            result = dedupe_all(wh, config, as_of)
        if truth_expression is not None:
            truth = truth_from_expression(wh, config, truth_expression)
        else:
            truth = truth_from_file(truth_file)
        predicted = wh.frame(PREDICTED_SQL)
    return ResolutionScore(
        pairwise_scores(predicted, truth),
        result,
        extracting.timing,
        resolving.timing,
        cluster_scores(predicted, truth),
    )
