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

A shard computed by the stage (no worker took it in time, or its run failed) is scored from the stage's own
frames, not read back. A remote shard reads the records its pairs name: with pairs split by their left
record, the right records are spread over all shards, so each reads most records; what shrinks with more
shards is the comparing and scoring. The work tables hold every prepared record (personal data) while the
run lasts; the stage drops them after reading the links, a killed run's are dropped by the next dedupe
run or by an erasure, and their Parquet files go with the lake's snapshot expiry (an erasure expires at once).
The model's row carries the hash of the matcher settings the stage scored with: a shard whose config says
otherwise (the file edited meanwhile) fails, and the stage scores that shard itself.
"""

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

from tasks.dedupe.model import MatchModel, load_model, model_frames
from tasks.dedupe.scoring import MatchSettings, score_with_model
from tasks.shared import shards as sharding
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

PARTS = sharding.WorkTables("core", "match_parts_")
# The run's work tables (suffixes of its name): the links first, which the shards check for ("still
# needed?"), so that a late shard finds it gone before the others go.
SUFFIXES = ("_links", "_records", "_model", "_model_values", "")


def parts_table() -> str:
    """A new name for a run's pair shards' work tables (the pairs; the others add a suffix)."""
    return PARTS.new()


def in_shard(pairs: pl.DataFrame, shard: int, n: int) -> pl.DataFrame:
    """The pairs of shard `shard` of `n` (their left node modulo n), as core/match_parts_pairs keeps them."""
    return pairs.filter(pl.col("left") % n == shard)


def score_shard(wh: Warehouse, base: str, settings: MatchSettings, shard: int, n: int) -> int:
    """Score shard `shard` of `n` of the pairs in the work table `base` with the model beside them, and add the
    links to `base`_links, in one statement; how many links. Raises when settings are not those the stage
    scored with."""
    model = load_model(wh, settings.comparisons, f"{base}_model", f"{base}_model_values")
    if model.settings_hash != settings.digest():
        raise RuntimeError(
            f"pair shard {shard + 1} of {n}: the config's matcher settings are not those the dedupe stage scores "
            "with (edited since the run started?); the stage scores this shard itself"
        )
    params = {"shards": n, "shard": shard}
    pairs = wh.frame(wh.model_sql("core/match_parts_pairs", identifiers={"pairs": base}), params)
    prepared = wh.frame(
        wh.model_sql("core/match_parts_records", identifiers={"pairs": base, "records": f"{base}_records"}),
        params,
    )
    links = score_with_model(prepared, pairs, model, settings)
    if links.is_empty():
        return 0
    return wh.append_frame(
        f"{base}_links", links.with_columns(shard=pl.lit(shard, pl.Int32), writer=pl.lit(uuid.uuid4().hex))
    )


def pairs_shard(
    wh: Warehouse, pipeline: PipelineConfig, as_of: date, shard: int, shards: int, work_table: str
) -> int:
    """Shard `shard` of `shards` of the candidate pairs the dedupe stage committed to the work tables
    `work_table`*, scored with the model it committed beside them (a shard's flow run: flows/stage_shard.py);
    how many links. as_of: the refresh's day (the work tables hold what the stage read as of it)."""
    from tasks.dedupe import match_settings  # here: the package imports this module

    PARTS.check(work_table)
    links = f"{work_table}_links"
    if not wh.table_exists(links):
        return 0  # the stage no longer needs it: it went on without this shard
    settings = match_settings(pipeline)
    return sharding.added(wh, links, lambda: score_shard(wh, work_table, settings, shard, shards))


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
        here: dict[int, pl.DataFrame] = {}

        def score_here(shard: int) -> None:
            here[shard] = score_with_model(prepared, in_shard(pairs, shard, n), model, settings)

        shape = score_with_model(prepared, pairs.clear(), model, settings)
        row, values = model_frames(replace(model, settings_hash=settings.digest()))
        tables = {
            "_records": prepared,
            "_model": row,
            "_model_values": values,
            "": pairs.select("left", "right"),
            "_links": shape.with_columns(shard=pl.lit(None, pl.Int32), writer=pl.lit(None, pl.String)),
        }
        # a cursor of its own: its statements commit at once, so the shards' processes read them
        with self.wh.scratch() as (work, _):
            try:
                for suffix, frame in tables.items():
                    work.write_frame(f"{base}{suffix}", frame)
                self.runs = sharding.run_shards(self.plan, score_here, self.logger)
                remote = [k for k in range(n) if k not in here]
                sql = work.model_sql("core/match_parts_links", identifiers={"links": f"{base}_links"})
                there = work.frame(sql, {"shards": remote}) if remote else shape
            finally:
                for suffix in SUFFIXES:
                    if work.table_exists(f"{base}{suffix}"):
                        sharding.drop_work_table(work, f"{base}{suffix}")
        parts = [there.cast(shape.schema), *here.values()]  # type: ignore[arg-type]
        return pl.concat(parts).sort("left", "right")
