"""`python -m bench.act`: time the act stage alone on a warehouse a refresh has built.

`python -m bench.act --config PATH --as-of DAY [--runs N]` copies the config's warehouse (after a refresh
of DAY, so its features and segments are DAY's) into a temporary folder and times `act_all` on the copy N
times: wall and CPU seconds, peak RSS of this process, each step's seconds, and what it built. The
warehouse itself is not changed. For the 1M figure: `python -m sampledata --customers 1000000 --dir D
--end DAY`, then `segments run --config D/config.yaml --as-of DAY`, then this.
"""

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import tasks.act
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse

STEPS = (
    "build_lookalikes",
    "build_recommendations",
    "evaluate_recommendations",
    "build_audiences",
    "measure_outcomes",
)


def timed_steps(seconds: dict[str, float]) -> None:
    """Wrap the act stage's steps (as tasks.act calls them) so that each records its wall seconds."""
    for name in STEPS:
        step = getattr(tasks.act, name)

        def timed(*args, _step=step, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _step(*args, **kwargs)
            finally:
                seconds[_name] = seconds.get(_name, 0.0) + time.perf_counter() - started

        setattr(tasks.act, name, timed)


def main(argv: list[str] | None = None) -> int:
    """Time the act stage; print one line per run."""
    parser = argparse.ArgumentParser(prog="python -m bench.act", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="pipeline config whose warehouse to copy")
    parser.add_argument(
        "--as-of", required=True, type=date.fromisoformat, help="the day the warehouse was refreshed for"
    )
    parser.add_argument("--runs", type=int, default=1, help="timed runs, each on a fresh copy")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    with Warehouse(config.warehouse_path, read_only=True, timezone=config.timezone) as wh:
        days = [day for (day,) in wh.rows("select distinct as_of from features.customer_features")]
    if days != [args.as_of]:
        print(
            f"error: the warehouse's features are of {days}, not {args.as_of}: refresh that day first",
            file=sys.stderr,
        )
        return 2
    seconds: dict[str, float] = {}
    timed_steps(seconds)
    with tempfile.TemporaryDirectory(prefix="bench-act-") as scratch:
        for run in range(1, args.runs + 1):
            seconds.clear()
            copy = Path(scratch) / "warehouse.duckdb"
            shutil.copyfile(config.warehouse_path, copy)
            with Warehouse(copy, timezone=config.timezone) as wh:
                if config.memory_limit:
                    wh.execute(f"set memory_limit = '{config.memory_limit}'")
                wall, cpu = time.perf_counter(), time.process_time()
                summary = tasks.act.act_all(wh, config, args.as_of)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                customers = wh.count("features.customer_features")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
            steps = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
            members = sum(a["members"] for a in summary.get("audiences", []))
            print(
                f"run {run}: act {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak:.2f} GiB; "
                f"{customers:,} customers, {members:,} audience members; {steps}"
            )
            copy.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
