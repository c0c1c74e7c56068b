"""`make bench`: generate sample data at chosen sizes, time full and incremental refreshes, append to BENCHMARKS.md.

Per size and run, in a fresh temporary folder:
1. generate the sample (not part of any refresh time);
2. the floor (bench/floor.py): every source file read once into DuckDB tables, then sessions and
   payments grouped per customer, in its own process;
3. full refresh with the stage functions called directly (no Prefect), in its own process;
4. full refresh again, from an empty warehouse, through the real Prefect flow (`daily_refresh`)
   against a Prefect server started once for the whole benchmark, in its own process;
5. in the first run of each size listed in --backfill-sizes: the `backfill` flow over the
   --backfill-days days ending at END on a second, fresh warehouse (bench/backfill.py), and whether
   its published.customer_segments rows of END equal those of the full refresh of step 4;
6. in the first run of each size listed in --lake-sizes: the same full refresh through the flow on a
   DuckLake warehouse (catalog in a PostgreSQL server the benchmark starts, tables as Parquet files beside
   the data), run by the lake environment's Python (envs/lake/.venv: DuckDB 1.5.5 with the signed DuckLake
   extension); left out, and said so in the report, when that environment is not built (`make lake-env`);
7. one more day of data (bench/newday.py), then an incremental refresh through the flow (and on the lake);
8. in the first run of each size listed in --workers-sizes: two workers of a lake stack against one
   (bench/workers.py, in the lake environment, on data generated for it).
Each refresh runs in a subprocess, so its peak RSS is its own. The first run of each size listed in
--compare-sizes also runs the side-by-sides (bench/side_by_side.py). Medians over runs are reported.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from bench.lake import LAKE_PYTHON, lake_outcome, lake_versions, workers_comparison, workers_outcome
from bench.machine import finish_facts, folder_bytes, machine
from bench.newday import write_next_day
from bench.postgres import create_database, temporary_postgres
from bench.worker import STAGES

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config" / "demo.yaml"
# Targets of issue 8 at 1M customers.
FULL_TARGET_S, INCREMENTAL_TARGET_S, RSS_TARGET_BYTES = 60.0, 15.0, 4 * 1024**3
# Targets of issue 20: full refresh (flow) at most this many times the floor at 1M; a backfill at
# 100k at most this many times one full refresh (flow) of the same size.
FLOOR_TARGET_RATIO, BACKFILL_TARGET_RATIO, BACKFILL_TARGET_SIZE = 3.0, 3.0, 100_000
LAKE_CATALOG_ENV = "SEGMENTS_LAKE_CATALOG"  # the variable the benchmark's lake configs name
END = date(2026, 11, 21)  # last generated day; the incremental run adds the next one


def git_commit() -> str:
    """The commit benchmarked, with '+dirty' when the worktree has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=10", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


@contextmanager
def prefect_server() -> Iterator[dict[str, str]]:
    """A temporary Prefect server (SQLite) for the whole benchmark; yields the environment pointing at it."""
    from prefect.settings import get_current_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        url = str(get_current_settings().api.url)
        yield {"PREFECT_API_URL": url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def write_config(
    data_dir: Path, memory_limit: str | None, name: str = "config.yaml", overrides: dict | None = None
) -> Path:
    """The demo config next to the data, with the benchmark's memory limit (and overrides, e.g. another warehouse)."""
    config = yaml.safe_load(DEMO_CONFIG.read_text()) | (overrides or {})
    if memory_limit:
        config["memory_limit"] = memory_limit
    path = data_dir / name
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def worker(
    mode: str,
    config: Path,
    as_of: date,
    env: dict[str, str],
    log: Path,
    profile: Path | None,
    extra: tuple[str, ...] = (),
    python: Path | str = sys.executable,
) -> dict:
    """Run one refresh in a subprocess (bench/worker.py with extra arguments, in the environment of python);
    return its JSON result."""
    result = config.parent / f"result-{mode}-{config.stem}-{as_of}.json"
    command = [
        str(python),
        "-m",
        "bench.worker",
        mode,
        str(config),
        as_of.isoformat(),
        str(result),
        *extra,
    ]
    if profile:
        command += ["--profile", str(profile)]
    with log.open("a") as out:
        done = subprocess.run(command, cwd=ROOT, env=os.environ | env, stdout=out, stderr=out, check=False)
    if done.returncode:
        raise RuntimeError(f"{mode} refresh as of {as_of} failed (exit {done.returncode}); see {log}")
    return json.loads(result.read_text())


def reset_warehouse(data_dir: Path, config: Path) -> None:
    """Remove the warehouse and exports, so the next refresh starts from nothing."""
    import tasks.shared.config

    pipeline = tasks.shared.config.load_config(config)
    for path in pipeline.warehouse_path.parent.glob(pipeline.warehouse_path.name + "*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(pipeline.exports_path, ignore_errors=True)


def run_backfill(
    data_dir: Path, config: Path, args: argparse.Namespace, env: dict[str, str], log: Path
) -> dict:
    """The backfill flow on a fresh second warehouse in data_dir; its last day compared with the full refresh's.

    Two comparisons with the full refresh of END. ``published_as_backfilled``: the last day as the
    backfill published it; its models were fitted on their schedule (refit_every_days) during the
    backfill, the full refresh's on END, so the model-made columns (and the matcher's links) may differ:
    reported, not a defect by itself. ``same_as_full``: the check. END computed again on the
    backfilled warehouse with every model fitted that day (the flow's `refit`), so both stand on the
    same fits, and what thirty days of incremental state built must equal what one full computation
    built, customer by customer (named by their records; stable ids compared apart).
    """
    from bench.backfill import compare_digests, customer_differences, published_digest
    from tasks.shared.config import load_config

    backfill_config = write_config(
        data_dir,
        args.memory_limit,
        "config-backfill.yaml",
        {"warehouse": "backfill/warehouse.duckdb", "exports": "backfill/exports"},
    )
    try:
        result = worker("backfill", backfill_config, END, env, log, None, ("--days", str(args.backfill_days)))
        full_path = load_config(config).warehouse_path
        full = published_digest(full_path, END)
        backfilled = load_config(backfill_config).warehouse_path
        result["published_as_backfilled"] = compare_digests(published_digest(backfilled, END), full) | {
            "by_customer": customer_differences(backfilled, full_path, END)
        }
        worker("flow", backfill_config, END, env, log, None, ("--refit",))
        result["same_as_full"] = compare_digests(published_digest(backfilled, END), full)
    except RuntimeError as error:  # a failed backfill is reported; the refreshes of the size go on
        result = {"days": args.backfill_days, "failed": str(error)}
    finally:
        shutil.rmtree(data_dir / "backfill", ignore_errors=True)  # a second warehouse of the size's data
    return result


def lake_refresh(lake: dict, key: str, config: Path, as_of: date, env: dict[str, str], log: Path) -> None:
    """One refresh through the flow on the lake, in the lake environment, into lake[key]; a failure is
    recorded in lake["failed"] (and the lake's next refresh skipped), not raised: the file's go on."""
    if "failed" not in lake:
        try:
            lake[key] = worker("flow", config, as_of, env, log, None, python=LAKE_PYTHON)
        except RuntimeError as error:
            lake["failed"] = f"{key}: {error}"


def backfill_outcome(backfill: dict) -> str:
    """One line on a backfill: its time and whether its last day equals the full refresh's (or how it failed)."""
    if "failed" in backfill:
        return f"!!! backfill of {backfill['days']} days FAILED: {backfill['failed']}"
    same = backfill["same_as_full"]
    outcome = (
        f"{END} recomputed on it with refit: published rows equal to the full refresh's"
        if same["equal"]
        else f"!!! {END} recomputed on it with refit: published rows DIFFER from the full refresh's "
        f"(columns {', '.join(same['differing_columns']) or 'none'}; rows {same['rows']})"
    )
    return f"backfill of {backfill['days']} days {backfill['wall_s']:.1f} s; {outcome}"


def one_run(
    size: int,
    index: int,
    args: argparse.Namespace,
    env: dict[str, str],
    compare: bool,
    backfill: bool = False,
    lake_server: str | None = None,
    workers: bool = False,
) -> dict:
    """Generate one sample of `size` persons and time its refreshes; return the measurements.

    lake_server: a PostgreSQL server's URI; the full and the incremental refresh also run on a DuckLake
    warehouse with its catalog there. workers: also run bench/workers.py at this size (two workers of a
    lake stack against one)."""
    from sampledata.generate import generate
    from tasks.shared.config import load_config

    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{size}-{index}-", dir=args.workdir))
    log = args.logs / f"{size}-{index}.log"
    profile = args.logs / f"profile-{size}-{index}" if args.profile else None
    try:
        started = time.perf_counter()
        stats = generate(data_dir, customers=size, end=END)
        run: dict = {"generate_s": time.perf_counter() - started, "source_rows": stats.rows}
        config = write_config(data_dir, args.memory_limit)
        print(
            f"  [{size:,} #{index}] generated {sum(stats.rows.values()):,} rows in {run['generate_s']:.1f} s",
            flush=True,
        )
        run["floor"] = worker("floor", config, END, env, log, None)
        print(
            f"  [{size:,} #{index}] floor {run['floor']['wall_s']:.1f} s (read {run['floor']['read_s']:.1f} s, "
            f"aggregate {run['floor']['aggregate_s']:.1f} s)",
            flush=True,
        )
        run["direct"] = worker("direct", config, END, env, log, profile)
        print(f"  [{size:,} #{index}] direct full refresh {run['direct']['wall_s']:.1f} s", flush=True)
        reset_warehouse(data_dir, config)
        run["flow"] = worker("flow", config, END, env, log, None)
        print(
            f"  [{size:,} #{index}] flow full refresh {run['flow']['wall_s']:.1f} s "
            f"({run['flow']['wall_s'] / run['floor']['wall_s']:.1f}× the floor)",
            flush=True,
        )
        if backfill:
            run["backfill"] = run_backfill(data_dir, config, args, env, log)
            print(f"  [{size:,} #{index}] {backfill_outcome(run['backfill'])}", flush=True)
        if lake_server:
            lake = {"ducklake": {"catalog": {"dsn_env": LAKE_CATALOG_ENV}, "data_path": "lake"}}
            lake_config = write_config(
                data_dir,
                args.memory_limit,
                "config-lake.yaml",
                {"warehouse": lake, "exports": "lake-exports"},
            )
            lake_env = env | {LAKE_CATALOG_ENV: create_database(lake_server, f"lake_{size}_{index}")}
            run["lake"] = {}
            lake_refresh(run["lake"], "flow", lake_config, END, lake_env, log)
            run["lake"]["stored_bytes"] = folder_bytes(data_dir / "lake")
            run["lake"]["stored_files"] = sum(1 for path in (data_dir / "lake").rglob("*") if path.is_file())
            print(f"  [{size:,} #{index}] lake: full refresh {lake_outcome(run['lake'], 'flow')}", flush=True)
        run["next_day_rows"] = write_next_day(data_dir, END)
        run["incremental"] = worker("flow", config, END + timedelta(days=1), env, log, None)
        print(
            f"  [{size:,} #{index}] flow incremental refresh {run['incremental']['wall_s']:.1f} s "
            f"({run['incremental']['wall_s'] / run['floor']['wall_s']:.1f}× the floor)",
            flush=True,
        )
        if lake_server:
            lake_refresh(run["lake"], "incremental", lake_config, END + timedelta(days=1), lake_env, log)
            print(
                f"  [{size:,} #{index}] lake: incremental refresh {lake_outcome(run['lake'], 'incremental')}",
                flush=True,
            )
        if workers:
            run["workers"] = workers_comparison(size, args, log)
            print(
                f"  [{size:,} #{index}] two workers against one: {workers_outcome(run['workers'])}",
                flush=True,
            )
        if compare:
            from bench.side_by_side import dedupe_vs_splink, features_vs_pandas

            pipeline = load_config(config)
            day = END + timedelta(days=1)
            run["features_vs_pandas"] = features_vs_pandas(pipeline, day)
            print(
                f"  [{size:,} #{index}] features SQL vs pandas: equal, x{run['features_vs_pandas']['ratio']:.2f}",
                flush=True,
            )
            if not args.skip_splink:
                run["dedupe_vs_splink"] = dedupe_vs_splink(pipeline, day, data_dir)
                print(f"  [{size:,} #{index}] dedupe vs Splink done", flush=True)
        return run
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def summarize(runs: list[dict]) -> dict:
    """Medians over runs of every figure the report shows."""

    def med(get: callable) -> float | None:
        values = [v for v in (get(r) for r in runs) if v is not None]
        return statistics.median(values) if values else None

    summary: dict = {"runs": len(runs), "source_rows": runs[0]["source_rows"]}
    summary["rows_read"] = runs[0]["direct"]["rows_read"]
    for key in ("direct", "flow", "incremental"):
        summary[key] = {
            "wall_s": med(lambda r, k=key: r[k]["wall_s"]),
            "cpu_s": med(lambda r, k=key: r[k]["cpu_s"]),
            "peak_rss_bytes": med(lambda r, k=key: r[k]["peak_rss_bytes"]),
            "stages": {
                stage: {
                    field: med(lambda r, k=key, s=stage, f=field: r[k]["stages"].get(s, {}).get(f))
                    for field in ("wall_s", "cpu_s")
                }
                for stage in STAGES
            },
        }
    summary["incremental"]["rows_read"] = runs[0]["incremental"]["rows_read"]
    if all("floor" in r for r in runs):  # results saved before the floor was measured have none
        summary["floor"] = {
            field: med(lambda r, f=field: r["floor"][f])
            for field in ("read_s", "aggregate_s", "wall_s", "cpu_s")
        }
        summary["floor"] |= {
            "rows_read": runs[0]["floor"]["rows_read"],
            "peak_rss_bytes": med(lambda r: r["floor"]["peak_rss_bytes"]),
        }
    summary["generate_s"] = med(lambda r: r["generate_s"])
    for key in ("features_vs_pandas", "dedupe_vs_splink", "backfill", "lake", "workers"):
        found = [r[key] for r in runs if key in r]
        if found:
            summary[key] = found[0]
    return summary


def main() -> None:
    """Parse the options, run the benchmark, append the report to BENCHMARKS.md."""
    parser = argparse.ArgumentParser(
        description="Benchmark the daily refresh; append results to BENCHMARKS.md."
    )
    parser.add_argument(
        "--sizes", default="100000 1000000", help="persons (customers) to generate, space-separated"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per size below --large")
    parser.add_argument("--large-runs", type=int, default=1, help="runs per size at or above --large")
    parser.add_argument("--large", type=int, default=1_000_000, help="sizes from here on use --large-runs")
    parser.add_argument("--compare-sizes", default="100000", help="sizes that also run the side-by-sides")
    parser.add_argument("--skip-splink", action="store_true", help="leave out the Splink comparison")
    parser.add_argument(
        "--backfill-sizes",
        default="100000",
        help="sizes whose first run also times a backfill of --backfill-days days ('' for none)",
    )
    parser.add_argument("--backfill-days", type=int, default=30, help="days of the backfill, ending at END")
    parser.add_argument(
        "--lake-sizes",
        default="1000000",
        help="sizes whose first run also times the full and incremental refresh on a DuckLake warehouse "
        "(needs envs/lake/.venv: make lake-env; '' for none)",
    )
    parser.add_argument(
        "--workers-sizes",
        default="1000000",
        help="sizes whose first run also compares two workers of a lake stack with one (bench/workers.py, "
        "on data of its own; needs envs/lake/.venv and PostgreSQL; '' for none)",
    )
    parser.add_argument(
        "--memory-limit",
        default="2GB",
        help="DuckDB memory_limit written into the config (spills beyond it); the process holds about 1.8 GiB "
        "more at 1M customers (in dedupe: the interpreter, the matcher's frames and what the allocators keep), so "
        "2GB keeps it under 4 GiB",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the temporary data goes (default TMPDIR)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, default=None, help="also write all measurements as JSON here")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "segments-bench")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of each direct refresh")
    parser.add_argument("--keep", action="store_true", help="keep the generated data and warehouses")
    parser.add_argument(
        "--note", default="", help="a sentence for the report (e.g. 'machine shared with ...')"
    )
    parser.add_argument(
        "--from-json",
        nargs="+",
        type=Path,
        help="no new runs: report the results saved by earlier --json runs",
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split()]
    compare = {int(s.replace("_", "")) for s in args.compare_sizes.split()}
    backfills = {int(s.replace("_", "")) for s in args.backfill_sizes.split()}
    lakes = {int(s.replace("_", "")) for s in args.lake_sizes.split()} & set(sizes)
    two_workers = {int(s.replace("_", "")) for s in args.workers_sizes.split()} & set(sizes)
    args.logs.mkdir(parents=True, exist_ok=True)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)

    from bench.report import render

    if args.from_json:
        started_at, commit, facts, results = merge_saved(args.from_json)
        args.sizes = " ".join(str(size) for size in results)
    else:
        facts = machine()
        started_at, commit = datetime.now(UTC), git_commit()
        results: dict[int, dict] = {}
        print(f"benchmark: sizes {sizes}, logs in {args.logs}", flush=True)
        facts["lake"] = lake_versions() if lakes | two_workers else None
        if (lakes | two_workers) and facts["lake"] is None:
            facts["lake_missing"] = f"no lake environment ({LAKE_PYTHON}): make lake-env"
            print(f"lake backend left out: {facts['lake_missing']}", flush=True)
        with ExitStack() as stack:
            env = stack.enter_context(prefect_server())
            server = None
            if facts["lake"]:
                try:
                    server = stack.enter_context(temporary_postgres("bench-lake-pg-"))
                except (
                    RuntimeError,
                    subprocess.CalledProcessError,
                ) as error:  # no PostgreSQL: the file goes on
                    facts["lake_missing"] = f"no PostgreSQL server for its catalog ({error})"
                    print(f"lake backend left out: {facts['lake_missing']}", flush=True)
            for size in sizes:
                runs = [
                    one_run(
                        size,
                        i + 1,
                        args,
                        env,
                        compare=(i == 0 and size in compare),
                        backfill=(i == 0 and size in backfills),
                        lake_server=server if i == 0 and size in lakes else None,
                        workers=bool(i == 0 and size in two_workers and server),
                    )
                    for i in range(args.large_runs if size >= args.large else args.runs)
                ]
                results[size] = {"runs": runs, "summary": summarize(runs)}
                facts["load_average_at_end"] = os.getloadavg()
                if args.json:  # after every size, so a long benchmark that is stopped keeps what it measured
                    save(args.json, started_at, commit, facts, results, args)
        finish_facts(facts)  # the reference work once, after the last size
        if args.json:
            save(args.json, started_at, commit, facts, results, args)
    report = render(started_at, commit, facts, {s: r["summary"] for s, r in results.items()}, args)
    with args.output.open("a", encoding="utf-8") as out:
        out.write(report)
    print(report)


def save(
    path: Path, started: datetime, commit: str, facts: dict, results: dict, args: argparse.Namespace
) -> None:
    """Write every measurement so far as JSON (readable again with --from-json)."""
    payload = {
        "started": started.isoformat(),
        "commit": commit,
        "memory_limit": args.memory_limit,
        "machine": facts,
        "results": results,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))


def merge_saved(paths: list[Path]) -> tuple[datetime, str, dict, dict[int, dict]]:
    """Results of earlier benchmarks saved with --json, merged by size (for one report over all sizes)."""
    saved = [json.loads(path.read_text()) for path in paths]
    results = {int(size): result for data in saved for size, result in data["results"].items()}
    # files saved before these keys existed: the commit now, the file's time
    commits = sorted({data.get("commit") or git_commit() for data in saved})
    facts = saved[0]["machine"]
    facts["load_average_at_end"] = max(
        (d["machine"]["load_average_at_end"] for d in saved), key=lambda x: x[0]
    )
    started = min(
        datetime.fromisoformat(data["started"])
        if "started" in data
        else datetime.fromtimestamp(path.stat().st_mtime, UTC)
        for data, path in zip(saved, paths, strict=True)
    )
    return started, " + ".join(commits), facts, dict(sorted(results.items()))
