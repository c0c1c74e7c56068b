"""Per-customer work split into shards by customer-id hash, each run by whichever worker of the pool is free.

On a lake (`warehouse.ducklake.shards` above 1), the features stage computes its customer features in
shards: shard k of n holds the customers with `hash(customer_id) % n = k`. Each shard is a flow run of the
`stage-shard` deployment (flows/stage_shard.py): a worker runs it in a process of its own, with a DuckDB of
its own attached to the lake, and it inserts its rows into a work table (inserts into one lake table from
several writers all commit). The run that asked holds the writer lock throughout and waits for its shards;
a shard is one transaction, so it adds all its rows or none.

A shard that no worker has started within `shard_start_seconds` (no deployment, no free worker, a run
outside a deployment, the pool's workers all busy with runs that wait for this run's lock) is cancelled and
computed in the asking process, as is a shard whose run failed: a busy pool slows a run down, never stalls
it, and a shard computed twice (a cancel that raced its start) gives the same rows twice, which the stage
keeps once.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

DEPLOYMENT = "stage-shard/stage-shard"
# The fragments of sql/features/customer_activity.sql and customer_features.sql for every customer, and none.
ALL = {"shard": "true", "shard_records": "true"}
NONE = {"shard": "false", "shard_records": "false"}
NOT_STARTED = {"SCHEDULED", "PENDING", "PAUSED"}
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
    """A stage's per-customer work in `shards` shards, for the pipeline config in config_file."""

    stage: str
    shards: int
    as_of: date
    config_file: str
    start_seconds: float
    work_table: str  # where the shards add their rows (the stage makes it, one per run)


def run_shards(
    plan: ShardPlan, local: Callable[[int], Any], logger: logging.Logger | logging.LoggerAdapter
) -> ShardRuns:
    """Run shards 0..shards-1 of the plan's stage as flow runs of the stage-shard deployment, waiting for
    them; compute here (local(k)) each one no worker started within start_seconds, each whose run did not
    complete, and all of them when this is not a flow run or the deployment does not exist."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.runtime import flow_run
    from prefect.states import Cancelled

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

    start_seconds = plan.start_seconds
    deadline = time.monotonic() + start_seconds
    with get_client(sync_client=True) as client:
        while started:
            for shard, run in list(started.items()):
                state = client.read_flow_run(run.id).state
                kind = state.type.value if state else "SCHEDULED"
                if kind == StateType.COMPLETED.value:
                    runs.ran[shard] = f"flow run {run.name}"
                    del started[shard]
                elif kind in NOT_STARTED and time.monotonic() > deadline:
                    client.set_flow_run_state(
                        run.id, Cancelled(message=f"not started within {start_seconds:.0f} s"), force=True
                    )
                    runs.ran[shard] = f"here (no worker started it within {start_seconds:.0f} s)"
                    del started[shard]
                elif kind not in NOT_STARTED and kind not in {"RUNNING", "CANCELLING"}:
                    runs.ran[shard] = f"here (its flow run {run.name} ended {kind}: {state.message or ''})"
                    del started[shard]
            if started:
                time.sleep(POLL_SECONDS)
    for shard in range(plan.shards):
        if shard not in runs.ran:
            runs.ran[shard] = f"here ({reason})"
        if runs.ran[shard].startswith("here"):
            logger.info("%s shard %d of %d: computed %s", plan.stage, shard + 1, plan.shards, runs.ran[shard])
            local(shard)
    return runs
