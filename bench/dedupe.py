"""`make bench-dedupe`: time identity resolution (dedupe) alone on generated CRM records.

`python -m bench.dedupe [--records N] [--dir bench-data] [--seed S] [--difficulty LEVEL] [--memory-limit 2GB]`
generates about N customer (CRM) records with the sample generator (kept and reused while the
arguments match), extracts them into a fresh warehouse and times dedupe. The folder must be new or
the generator's own; the benchmark deletes only a warehouse it created there (its marker says so),
and holds the warehouse's writer lock while it deletes and rebuilds it.
"""

import argparse
import json
import logging
import os
import resource
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from evaluation.linkage import Stopwatch, Timing
from sampledata import FolderInUseError, write_sample
from sampledata.folder import DEMO_CONFIG, check_folder, read_marker
from tasks.dedupe import dedupe_all
from tasks.extract import extract_all
from tasks.shared.config import ConfigError, load_config
from tasks.shared.errors import DataError
from tasks.shared.lock import warehouse_lock
from tasks.shared.warehouse import Warehouse

BENCH_CONFIG = "bench-config.yaml"
MARKER = ".bench-dedupe.json"  # names the warehouse this benchmark created, the only one it deletes
END = date(2026, 11, 22)

# CRM customer records staged per generated person (90% registered, 8% of those twice; copies and
# faulty rows do not stage), measured: 978,359 records from 1,016,260 persons.
CRM_ROWS_PER_PERSON = 0.9627


@dataclass(frozen=True)
class BenchResult:
    """One dedupe benchmark: how many customer records, what came out, and the time per stage."""

    records: int
    customers: int
    candidate_pairs: int
    probabilistic_links: int
    generate: Timing | None
    extract: Timing
    resolve: Timing


def bench_settings() -> dict[str, Any]:
    """The demo config with only the CRM (customers) source."""
    demo = yaml.safe_load(DEMO_CONFIG.read_text("utf-8"))
    demo["sources"] = [s for s in demo["sources"] if s["name"] == "crm"]
    return demo


def bench_config(directory: Path, settings: dict[str, Any] | None = None) -> Path:
    """Write the benchmark's config next to the generated data; return its path."""
    path = directory / BENCH_CONFIG
    path.write_text(yaml.safe_dump(settings or bench_settings(), allow_unicode=True), encoding="utf-8")
    return path


def check_warehouse(directory: Path, warehouse: Path) -> None:
    """Refuse (FolderInUseError) a warehouse file in the folder that this benchmark did not create."""
    try:
        ours = json.loads((directory / MARKER).read_text(encoding="utf-8")).get("warehouse")
    except (OSError, ValueError):
        ours = None
    if warehouse.exists() and ours != warehouse.name:
        raise FolderInUseError(
            f"{warehouse} was not created by bench.dedupe (no {MARKER} naming it): refusing to delete it; "
            "choose a new folder"
        )


def bench_dedupe(
    directory: Path,
    records: int,
    seed: int = 42,
    difficulty: str = "default",
    end: date = END,
    memory_limit: str | None = None,
) -> BenchResult:
    """Generate about `records` CRM records (unless already there), extract them, and time dedupe alone.

    memory_limit: DuckDB's memory limit for the run (its buffers spill to disk beyond it)."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = bench_settings()
    if memory_limit:
        settings["memory_limit"] = memory_limit
    warehouse = directory / settings["warehouse"]
    check_folder(directory)
    check_warehouse(directory, warehouse)
    persons = max(1, round(records / CRM_ROWS_PER_PERSON))
    wanted = {"customers": persons, "seed": seed, "end": end.isoformat(), "difficulty": difficulty}
    marker = read_marker(directory) or {}
    generating = None
    if {key: marker.get(key) for key in wanted} != wanted:
        with Stopwatch() as generating:
            write_sample(directory, customers=persons, seed=seed, end=end, difficulty=difficulty, config=None)
    config = load_config(bench_config(directory, settings))
    with warehouse_lock(warehouse, "bench.dedupe", logging.getLogger("bench.dedupe")):
        (directory / MARKER).write_text(json.dumps({"warehouse": warehouse.name}) + "\n", encoding="utf-8")
        warehouse.unlink(missing_ok=True)
        with Warehouse.open(config) as wh:
            with Stopwatch() as extracting:
                extract_all(wh, config, "bench")
            with Stopwatch() as resolving:
                result = dedupe_all(wh, config, end)
    return BenchResult(
        records=result.records,
        customers=result.customers,
        candidate_pairs=result.candidate_pairs,
        probabilistic_links=result.probabilistic_links,
        generate=None if generating is None else generating.timing,
        extract=extracting.timing,
        resolve=resolving.timing,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its timings; exit 2 on a refused folder or bad data."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.dedupe",
        description="Benchmark: generate CRM records, extract them, and time identity resolution (dedupe) alone.",
    )
    parser.add_argument("--records", type=int, default=1_000_000, help="Customer (CRM) records to resolve.")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("bench-data"),
        help="Folder for the generated data (reused when it matches).",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="Random seed; the same seed gives the same files."
    )
    parser.add_argument(
        "--difficulty", default="default", help="Generator setting: default, hard or adversarial."
    )
    parser.add_argument(
        "--memory-limit",
        default="2GB",
        help="DuckDB memory limit of the run (default 2GB; the process's peak memory is printed).",
    )
    args = parser.parse_args(argv)
    if args.records < 1:
        parser.error("--records must be at least 1")
    try:
        result = bench_dedupe(
            args.dir, args.records, seed=args.seed, difficulty=args.difficulty, memory_limit=args.memory_limit
        )
    except (ConfigError, DataError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"Dedupe benchmark on {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.1f}: other work on the machine inflates wall time)"
    )
    if result.generate is not None:
        print(f"  generate:  {result.generate.text()}")
    print(f"  extract:   {result.extract.text()}")
    print(f"  dedupe:    {result.resolve.text()}")
    print(
        f"  {result.records:,} customer records -> {result.customers:,} customers; "
        f"{result.candidate_pairs:,} candidate pairs, {result.probabilistic_links:,} probabilistic links"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(
        f"  peak memory of the process (generate, extract, dedupe): {peak:.2f} GiB (DuckDB limit {args.memory_limit})"
    )


if __name__ == "__main__":
    main()
