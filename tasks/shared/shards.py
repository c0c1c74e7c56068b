"""A stage's heavy work split into shards, each run by whichever worker of the pool is free.

On a lake (`warehouse.ducklake.shards` above 1), the features stage computes its customer features in
shards (and so do the predict scores and the segments on a day scored with the stored fits:
tasks/predict/shards.py, tasks/segment/shards.py): shard k of n holds the customers with
`hash(customer_id) % n = k` (customer_id is a varchar in every table the shards read: DuckDB's hash depends
on the type). The publish stage's customer files split by customer-id ranges instead, and their shards
write part files rather than rows (tasks/publish/shards.py); the dedupe stage's shards score the matcher's
candidate pairs by their left record (tasks/dedupe/shards.py). Each shard is a flow run of the `stage-shard`
deployment (flows/stage_shard.py): a worker runs it in a process of its own, with a DuckDB of its own
attached to the lake, and it inserts its rows into the run's work table (inserts into one lake table from
several writers all commit). The run that asked holds the writer lock throughout and waits for its shards;
a shard is one transaction, so it adds all its rows or none.

A shard whose run no worker has taken within `shard_start_seconds` (no free worker: on the lake stack both
may be busy, one with this run and one with a run waiting for its lock), or which has not finished within
`shard_run_seconds` (a worker or host that died), or whose run failed, is computed by the asking process
instead; so are all of them when there is no deployment or this is not a flow run. A busy pool slows a run
down; a lost worker costs it shard_run_seconds at most. A run given up on is cancelled; should it run anyway
(a cancel that crossed a worker's start), its rows are the same rows (the shards read what the stage
committed before starting them, and nothing else writes meanwhile), which the stage keeps once, and an
insert after the stage dropped its work table is a no-op (flows/stage_shard.py).
"""

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasks.shared.config import PipelineConfig
    from tasks.shared.warehouse import Warehouse

DEPLOYMENT = "stage-shard/stage-shard"
# The {{shard}} and {{shard_records}} fragments of the sharded SQL models for every customer, and none.
ALL = {"shard": "true", "shard_records": "true"}
NONE = {"shard": "false", "shard_records": "false"}
ENDED = {"FAILED", "CRASHED", "CANCELLED"}  # a shard's run ended without its rows
POLL_SECONDS = 1.0


def fragments(shard: int, shards: int) -> dict[str, str]:
    """The SQL conditions that keep shard `shard` of `shards`: on customer_id, and on a roll-up row
    (`activity`) by its record's customer; every customer when shards is 1."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of 0..{shards - 1}")
    if shards == 1:
        return ALL
    return {
        "shard": f"hash(customer_id) % {shards} = {shard}",
        "shard_records": (
            "exists (select 1 from core.identity_map as shard_identity "
            "where shard_identity.source = activity.record_source "
            "and shard_identity.source_id = activity.record_id "
            f"and hash(shard_identity.customer_id) % {shards} = {shard})"
        ),
    }


@dataclass
class ShardRuns:
    """How each shard of a stage ran: shard -> 'flow run NAME' or 'here (why)'."""

    ran: dict[int, str] = field(default_factory=dict)

    @property
    def remote(self) -> int:
        """Shards a flow run of the pool computed."""
        return sum(1 for how in self.ran.values() if how.startswith("flow run"))


@dataclass(frozen=True)
class ShardPlan:
    """A stage's heavy work in `shards` shards, for the pipeline config in config_file."""

    stage: str
    shards: int
    as_of: date
    config_file: str
    start_seconds: float  # a run no worker took by then is computed here
    run_seconds: float  # a run not finished by then is computed here
    work_table: str  # where the shards add their rows (the stage makes it, one per run)


def plan(config: "PipelineConfig", stage: str, as_of: date, work_table: str) -> ShardPlan | None:
    """The stage's shards as the config's lake sets them (its `shards`, waits); None on a DuckDB file or
    with one shard."""
    lake = config.lake
    if lake is None or lake.shards == 1:
        return None
    return ShardPlan(
        stage,
        lake.shards,
        as_of,
        str(config.file),
        lake.shard_start_seconds,
        lake.shard_run_seconds,
        work_table,
    )


def run_shards(
    plan: ShardPlan, local: Callable[[int], Any], logger: logging.Logger | logging.LoggerAdapter
) -> ShardRuns:
    """Run shards 0..shards-1 of the plan's stage as flow runs of the stage-shard deployment, waiting for
    them; compute here (local(k)) each one no worker took within start_seconds, each whose run did not
    finish within run_seconds, each whose run failed, and all of them when this is not a flow run or the
    deployment does not exist. A run given up on is cancelled (CANCELLING when a worker may have started
    it: the worker then stops its process); so are the runs still out when this raises."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.runtime import flow_run

    runs = ShardRuns()
    started: dict[int, Any] = {}
    if flow_run.id is None:
        reason = "not in a flow run"
    else:
        reason = ""
        try:
            for shard in range(plan.shards):
                started[shard] = run_deployment(
                    DEPLOYMENT,
                    parameters={
                        "stage": plan.stage,
                        "as_of": plan.as_of.isoformat(),
                        "shard": shard,
                        "shards": plan.shards,
                        "config": plan.config_file,
                        "work_table": plan.work_table,
                    },
                    flow_run_name=f"{plan.stage}-{plan.as_of}-shard-{shard + 1}-of-{plan.shards}",
                    timeout=0,
                )
        except ObjectNotFound:
            reason = f"no deployment {DEPLOYMENT}"
        logger.info("%s: %d shards started as flow runs of %s", plan.stage, len(started), DEPLOYMENT)

    began = time.monotonic()
    # no client without runs to follow: outside a flow run it would start a Prefect server of its own
    with get_client(sync_client=True) if started else contextlib.nullcontext() as client:
        try:
            while started:
                for shard, run in list(started.items()):
                    state = client.read_flow_run(run.id).state
                    kind = state.type.value if state else "SCHEDULED"
                    waited = time.monotonic() - began
                    if kind == "COMPLETED":
                        runs.ran[shard] = f"flow run {run.name}"
                    elif kind in ENDED:
                        runs.ran[shard] = (
                            f"here (its flow run {run.name} ended {kind}: {state.message or ''})"
                        )
                    elif kind == "SCHEDULED" and waited > plan.start_seconds:
                        cancel(client, run.id, kind, f"no worker took it within {plan.start_seconds:.0f} s")
                        runs.ran[shard] = f"here (no worker took it within {plan.start_seconds:.0f} s)"
                    elif waited > plan.run_seconds:
                        cancel(client, run.id, kind, f"not finished within {plan.run_seconds:.0f} s")
                        runs.ran[shard] = (
                            f"here (its flow run had not finished within {plan.run_seconds:.0f} s)"
                        )
                    else:
                        continue
                    del started[shard]
                if started:
                    time.sleep(POLL_SECONDS)
        finally:  # this raised (or was interrupted) with shards still out: none of them is needed any more
            for run in started.values():
                with contextlib.suppress(Exception):
                    cancel(client, run.id, "RUNNING", "the run that started it stopped")
    for shard in range(plan.shards):
        if shard not in runs.ran:
            runs.ran[shard] = f"here ({reason})"
        if runs.ran[shard].startswith("here"):
            logger.info("%s shard %d of %d: computed %s", plan.stage, shard + 1, plan.shards, runs.ran[shard])
            local(shard)
    return runs


def cancel(client: Any, run_id: Any, kind: str, why: str) -> None:
    """Cancel a shard's flow run: CANCELLED while no worker has it (it will then never run), else CANCELLING,
    which makes the worker that has it stop its process."""
    from prefect.states import Cancelled, Cancelling

    state = Cancelled(message=why) if kind == "SCHEDULED" else Cancelling(message=why)
    client.set_flow_run_state(run_id, state, force=True)


@dataclass(frozen=True)
class WorkTables:
    """A stage's shards' work tables, `schema.prefix<12 hex digits>`: one per run, so that a shard of a killed
    run that is still running can never add its rows to another run's."""

    schema: str
    prefix: str

    def new(self) -> str:
        """A new name for a run's work table."""
        return f"{self.schema}.{self.prefix}{uuid.uuid4().hex[:12]}"

    def check(self, table: str) -> None:
        """Raise unless table is one of these work tables (a shard's flow-run parameter)."""
        if not re.fullmatch(rf"{re.escape(self.schema)}\.{re.escape(self.prefix)}[0-9a-f]{{12}}", table):
            raise ValueError(
                f"{table!r} is not a work table {self.schema}.{self.prefix}<id> of a stage's shards"
            )

    def drop_stale(self, wh: "Warehouse") -> list[str]:
        """Drop the work tables runs left (drop_stale); their names."""
        return drop_stale(wh, self.schema, self.prefix)

    def stale(self, wh: "Warehouse") -> list[str]:
        """The work tables in the warehouse (a stage drops its own: those there between runs, killed runs')."""
        return work_tables(wh, self.schema, self.prefix)


def added(wh: "Warehouse", work_table: str, add: Callable[[], int]) -> int:
    """add()'s rows added to work_table, or 0 when the table is gone: the stage no longer needs this shard (it
    went on without it and dropped its work tables; on a lake a drop that crossed the insert is a conflict at
    commit)."""
    import duckdb

    try:
        return add()
    except (duckdb.CatalogException, duckdb.TransactionException):
        if wh.table_exists(work_table):
            raise
        return 0


def drop_stale(wh: "Warehouse", schema: str, prefix: str) -> list[str]:
    """Drop the shards' work tables (schema.prefix...) runs left (a run killed while its shards ran), each in
    a transaction of its own; their names. One a shard of such a run still writes to stays for the next run
    (a conflict)."""
    return [table for table in work_tables(wh, schema, prefix) if drop_work_table(wh, table)]


def work_tables(wh: "Warehouse", schema: str, prefix: str) -> list[str]:
    """The shards' work tables (schema.prefix...) in the warehouse."""
    return [
        f"{schema}.{name}"
        for (name,) in wh.rows(
            "select table_name from information_schema.tables where table_schema = ? and starts_with(table_name, ?)",
            [schema, prefix],
        )
    ]


def drop_work_table(wh: "Warehouse", table: str) -> bool:
    """Drop a shards' work table in a transaction of its own; False when that conflicts with a late shard's
    insert (the table then stays for drop_stale of the next run)."""
    import duckdb

    from tasks.shared.warehouse import quote_identifier

    try:
        with wh.transaction():
            wh.execute(f"drop table {quote_identifier(table)}")
    except duckdb.TransactionException:
        return False
    return True
