"""One refresh in its own process, so its peak memory (RSS) is its own: `python -m bench.worker MODE ...`.

Modes:
- ``flow``: the real Prefect flow ``daily_refresh`` against the Prefect server in PREFECT_API_URL;
  per-stage wall times come from the task runs' start and end times as the server recorded them.
- ``direct``: the same stage functions called one after another in this process, no Prefect; per
  stage wall and CPU time (user + system, all threads) measured around each call.
- ``floor``: the least a refresh must do (bench/floor.py): read every source file once into DuckDB
  tables, then group sessions and payments per customer; no Prefect, no warehouse.
- ``backfill``: the `backfill` Prefect flow over the --days days ending at as_of (bench/backfill.py);
  each day's time from its subflow run as the server recorded it.

Writes a JSON result to the path given; the caller reads it.
"""

import argparse
import json
import logging
import resource
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

STAGES = ("extract", "dedupe", "features", "predict", "segment", "act", "publish")


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(stages: dict[str, dict], name: str, call: Callable[[], Any]) -> Any:
    """Run call, recording its wall and CPU seconds under stages[name]."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = call()
    stages[name] = {"wall_s": time.perf_counter() - wall, "cpu_s": cpu_seconds() - cpu}
    return result


def run_direct(config_path: str, as_of: date) -> dict:
    """The seven stages without Prefect (flows/direct.py): what each task calls, minus the task wrapper and
    the artifacts; each stage timed on a warehouse of its own, as each task opens one."""
    from flows.direct import own_warehouse, run_day
    from tasks.shared.config import load_config
    from tasks.shared.warehouse import Warehouse

    config = load_config(config_path)
    stages: dict[str, dict] = {}
    on_own = own_warehouse(config)

    def stage(name: str, work: Callable[[Warehouse], Any]) -> Any:
        return timed(stages, name, lambda: on_own(name, work))

    started = time.perf_counter()
    summary = run_day(config, as_of, stage=stage, logger=logging.getLogger("bench"))
    return {
        "wall_s": time.perf_counter() - started,
        "stages": stages,
        "rows_read": sum(load["rows_read"] for load in summary["extract"]),
    }


def run_flow(config_path: str, as_of: date, refit: bool = False) -> dict:
    """The real flow (refit: every model fitted again that day); stage times from the task runs the Prefect
    server recorded."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.daily_refresh import daily_refresh

    started = time.perf_counter()
    state = daily_refresh(as_of=as_of, config=config_path, refit=refit, return_state=True)
    wall = time.perf_counter() - started
    summary = state.result()
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    stages = {}
    for run in runs:
        name = next((s for s in STAGES if run.name.startswith(s)), run.name)
        stages[name] = {"wall_s": (run.end_time - run.start_time).total_seconds()}
    return {
        "wall_s": wall,
        "stages": stages,
        "rows_read": sum(load["rows_read"] for load in summary["extract"]),
    }


def run_floor(config_path: str, as_of: date) -> dict:
    """The floor on the config's sources (as_of unused: the floor reads every file)."""
    from bench.floor import measure_floor

    return measure_floor(config_path)


def run_backfill(config_path: str, as_of: date, days: int = 30) -> dict:
    """The backfill flow over the days ending at as_of."""
    from bench.backfill import run_backfill as backfill

    return backfill(config_path, as_of, days)


def main() -> None:
    """Parse arguments, run one refresh, write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=("flow", "direct", "floor", "backfill"))
    parser.add_argument("config")
    parser.add_argument("as_of", type=date.fromisoformat)
    parser.add_argument("result", type=Path)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile (HTML and text) here")
    parser.add_argument("--days", type=int, default=30, help="backfill: days ending at as_of")
    parser.add_argument("--refit", action="store_true", help="flow: fit every model again that day")
    args = parser.parse_args()
    backfill = partial(run_backfill, days=args.days)
    flow = partial(run_flow, refit=args.refit)
    run = {"flow": flow, "direct": run_direct, "floor": run_floor, "backfill": backfill}[args.mode]
    cpu = cpu_seconds()
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        with profiler:
            result = run(args.config, args.as_of)
        args.profile.with_suffix(".txt").write_text(profiler.output_text(color=False, unicode=False))
        args.profile.with_suffix(".html").write_text(profiler.output_html())
    else:
        result = run(args.config, args.as_of)
    result |= {"mode": args.mode, "cpu_s": cpu_seconds() - cpu, "peak_rss_bytes": peak_rss_bytes()}
    args.result.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
