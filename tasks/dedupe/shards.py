"""The matcher's candidate pairs scored in shards (a lake's `shards`; tasks/shared/shards.py).

Whenever the matcher compares every candidate pair (a fit, or a run with the stored model that cannot be
incremental, as a full refresh), the comparisons and scores are most of its work, and a pair's score
depends on its two records and the model only. With shards, the dedupe stage makes the candidate pairs as
usual (one join over the blocking keys) and, for a fit, fits the model on its sample of pairs; then it
commits, from a cursor outside its transaction, the prepared records, the pairs and the model into work
tables (`core.match_parts_<id>` and `..._records`, `..._model`, `..._model_values`, `..._links`). Shard k of
n (a flow run of `stage-shard`, stage `dedupe`) scores the pairs whose left record's node is k modulo n and
inserts its links; the stage reads them back, each shard's once, in pair order, and goes on as if it had
scored them itself: the one-to-one constraint, the clusters (connected components over every link) and the
matcher's state stay in the stage's process, as do the incremental runs, which score only the pairs of
records new or changed since the last run.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from tasks.dedupe.model import MatchModel, load_model, model_frames
from tasks.dedupe.scoring import MatchSettings, score_with_model
from tasks.shared import shards as sharding
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

PARTS = sharding.WorkTables("core", "match_parts_")
SUFFIXES = ("_records", "_model", "_model_values", "_links", "")  # the run's work tables, the pairs last


def parts_table() -> str:
    """A new name for a run's pair shards' work tables (the pairs; the others add a suffix)."""
    return PARTS.new()


def score_shard(
    work: Warehouse, base: str, model: MatchModel, settings: MatchSettings, shard: int, n: int
) -> int:
    """Score shard `shard` of `n` of the pairs in the work table `base` (those whose left node is shard modulo
    n) with the model, and add their links to `base`_links, in one statement; how many links."""
    params = {"shards": n, "shard": shard}
    pairs = work.frame(work.model_sql("core/match_parts_pairs", identifiers={"pairs": base}), params)
    prepared = work.frame(
        work.model_sql("core/match_parts_records", identifiers={"pairs": base, "records": f"{base}_records"}),
        params,
    )
    links = score_with_model(prepared, pairs, model, settings).with_columns(
        shard=pl.lit(shard, pl.Int32), writer=pl.lit(uuid.uuid4().hex)
    )
    return work.append_frame(f"{base}_links", links)


def pairs_shard(
    wh: Warehouse, pipeline: PipelineConfig, as_of: date, shard: int, shards: int, work_table: str
) -> int:
    """Shard `shard` of `shards` of the candidate pairs the dedupe stage committed to the work tables
    `work_table`*, scored with the model it committed beside them (a shard's flow run: flows/stage_shard.py);
    how many links. as_of: the refresh's day (the work tables hold what the stage read as of it)."""
    from tasks.dedupe import match_settings  # here: the package imports this module

    PARTS.check(work_table)
    if not wh.table_exists(f"{work_table}_links"):
        return 0  # the stage no longer needs it: it went on without this shard
    settings = match_settings(pipeline)
    model = load_model(wh, settings.comparisons, f"{work_table}_model", f"{work_table}_model_values")
    return sharding.added(
        wh, f"{work_table}_links", lambda: score_shard(wh, work_table, model, settings, shard, shards)
    )


@dataclass
class ShardedScoring:
    """A PairScorer (tasks.dedupe.scoring) that scores the pairs in the plan's shards; `runs` then says how
    each shard ran."""

    wh: Warehouse
    plan: sharding.ShardPlan
    logger: logging.Logger | logging.LoggerAdapter
    runs: sharding.ShardRuns = field(default_factory=sharding.ShardRuns)

    def __call__(
        self, prepared: pl.DataFrame, pairs: pl.DataFrame, model: MatchModel, settings: MatchSettings
    ) -> pl.DataFrame:
        """The pairs' links at or above settings.threshold, as score_with_model makes them, in pair order."""
        base, n = self.plan.work_table, self.plan.shards
        # a cursor of its own: its statements commit at once, so the shards' processes read them
        with self.wh.scratch() as (work, _):
            PARTS.drop_stale(work)
            row, values = model_frames(model)
            shape = score_with_model(prepared, pairs.clear(), model, settings).with_columns(
                shard=pl.lit(None, pl.Int32), writer=pl.lit(None, pl.String)
            )
            try:
                for suffix, frame in zip(
                    SUFFIXES, (prepared, row, values, shape, pairs.select("left", "right")), strict=True
                ):
                    work.write_frame(f"{base}{suffix}", frame)
                self.runs = sharding.run_shards(
                    self.plan, lambda k: score_shard(work, base, model, settings, k, n), self.logger
                )
                sql = work.model_sql("core/match_parts_links", identifiers={"links": f"{base}_links"})
                links = work.frame(sql).cast(shape.drop("shard", "writer").schema)  # type: ignore[arg-type]
            finally:
                for suffix in SUFFIXES:
                    if work.table_exists(f"{base}{suffix}"):
                        sharding.drop_work_table(work, f"{base}{suffix}")
        return links
