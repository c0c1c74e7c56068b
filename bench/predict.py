"""`python -m bench.predict`: time the predict stage alone on a warehouse a refresh has built.

`python -m bench.predict --config PATH --as-of DAY [--runs N]` copies the config's warehouse (after a
refresh of DAY, so its features are DAY's) into a temporary folder and times `predict_day` (the predict
task's call) on the copy N times: wall and CPU seconds, peak RSS of this process, and what it scored. The
warehouse itself is not changed. For the 1M figure: `python -m sampledata --customers 1000000 --dir D --end DAY`, then
`segments run --config D/config.yaml --as-of DAY`, then this.
"""

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tasks.predict import predict_day
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse


def main(argv: list[str] | None = None) -> int:
    """Time the predict stage; print one line per run."""
    parser = argparse.ArgumentParser(prog="python -m bench.predict", description=__doc__.splitlines()[0])
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
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as scratch:
        for run in range(1, args.runs + 1):
            copy = Path(scratch) / "warehouse.duckdb"
            shutil.copyfile(config.warehouse_path, copy)
            with Warehouse(copy, timezone=config.timezone) as wh:
                if config.memory_limit:
                    wh.execute(f"set memory_limit = '{config.memory_limit}'")
                wall, cpu = time.perf_counter(), time.process_time()
                result = predict_day(wh, config, args.as_of, "bench")
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
            print(
                f"run {run}: predict {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak:.2f} GiB; "
                f"{result.rows:,} customers predicted, churn model {result.churn_model}, "
                f"{len({row['cutoff'] for row in result.backtest})} backtest cutoffs scored"
            )
            copy.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
