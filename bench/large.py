"""`make bench-10m`: one full refresh through the Prefect flow at a size far beyond the others.

Checks that the refresh completes with DuckDB bounded (memory_limit) and spilling to disk, and
reports its time per stage, its peak RSS, the most the spill folder held and the warehouse size.
One run: at 10M customers (≈ 138M source rows) a run takes tens of minutes. Appends a section to
BENCHMARKS.md like `make bench` does.
"""

import argparse
import contextlib
import os
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import GIB, _machine
from bench.run import END, ROOT, git_commit, machine, prefect_server, worker, write_config
from bench.worker import STAGES


def folder_bytes(path: Path) -> int:
    """Bytes of the files under path (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # a spill file removed while we walked
                total += (Path(root) / name).stat().st_size
    return total


class PeakSize(threading.Thread):
    """Samples the size of a folder every few seconds and keeps the largest."""

    def __init__(self, path: Path, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.path, self.every, self.peak = path, every, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.peak = max(self.peak, folder_bytes(self.path))


def main() -> None:
    """Generate, run one flow refresh, append the figures to BENCHMARKS.md."""
    from tasks.config import load_config
    from tasks.generate import generate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument("--workdir", type=Path, default=None, help="where the data goes (default TMPDIR)")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "segments-bench")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="keep the generated data and warehouse")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    args.logs.mkdir(parents=True, exist_ok=True)
    facts, started_at, commit = machine(), datetime.now(UTC), git_commit()
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{args.persons}-", dir=args.workdir))
    log = args.logs / f"{args.persons}-large.log"
    try:
        started = time.perf_counter()
        stats = generate(data_dir, customers=args.persons, end=END)
        generate_s = time.perf_counter() - started
        print(
            f"generated {sum(stats.rows.values()):,} rows in {generate_s:.0f} s into {data_dir}", flush=True
        )
        config = write_config(data_dir, args.memory_limit)
        warehouse = load_config(config).warehouse_path
        spill = PeakSize(warehouse.parent / f"{warehouse.name}.tmp")
        spill.start()
        with prefect_server() as env:
            result = worker("flow", config, END, env, log, None)
        spill.done.set()
        spill.join()
        spill.peak = max(spill.peak, folder_bytes(spill.path))
        facts["load_average_at_end"] = os.getloadavg()
        warehouse_bytes = warehouse.stat().st_size
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    rows = result["rows_read"]
    lines = [
        "",
        f"## {started_at:%Y-%m-%d %H:%M} UTC — {args.persons:,} customers, commit {commit}",
        "",
        f"`make bench-10m` (`python -m bench.large --persons {args.persons}`): one full refresh through the "
        f"`daily_refresh` Prefect flow, DuckDB memory_limit {args.memory_limit} (spills to "
        "`<warehouse>.tmp/`), generation not timed as refresh.",
        "",
        *_machine(facts, args.note),
        "",
        "| source rows | generate s | flow wall s | CPU s | peak RSS | most spilled | warehouse file | rows/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {rows:,} | {generate_s:.0f} | {result['wall_s']:.0f} | {result['cpu_s']:.0f} | "
        f"{result['peak_rss_bytes'] / GIB:.2f} GiB | {spill.peak / GIB:.2f} GiB | {warehouse_bytes / GIB:.2f} GiB | "
        f"{rows / result['wall_s']:,.0f} |",
        "",
        "| stage | " + " | ".join(STAGES) + " |",
        "|---|" + "---:|" * len(STAGES),
        "| wall s | "
        + " | ".join(f"{result['stages'].get(s, {}).get('wall_s', float('nan')):.0f}" for s in STAGES)
        + " |",
        "",
    ]
    report = "\n".join(lines)
    with args.output.open("a", encoding="utf-8") as out:
        out.write(report)
    print(report)


if __name__ == "__main__":
    main()
