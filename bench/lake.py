"""The lake environment's part of `make bench`: its versions, the outcome of its refreshes, and two workers of
a lake stack against one (bench/workers.py, run in the lake environment)."""

import argparse
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAKE_PYTHON = ROOT / "envs" / "lake" / ".venv" / "bin" / "python"


def lake_versions() -> dict[str, str] | None:
    """DuckDB's and the DuckLake extension's versions in the lake environment; None when it is not built."""
    if not LAKE_PYTHON.exists():
        return None
    script = (
        "from importlib import metadata; "
        "print(metadata.version('duckdb'), metadata.version('duckdb-extension-ducklake'))"
    )
    done = subprocess.run([str(LAKE_PYTHON), "-c", script], capture_output=True, text=True, check=False)
    if done.returncode:
        return None
    duckdb, ducklake = done.stdout.split()
    return {"duckdb": duckdb, "ducklake": ducklake}


def lake_outcome(lake: dict, key: str) -> str:
    """A lake refresh's time, or how the lake's refreshes failed."""
    return f"{lake[key]['wall_s']:.1f} s" if key in lake else f"FAILED ({lake['failed']})"


def workers_comparison(size: int, args: argparse.Namespace, log: Path) -> dict:
    """bench/workers.py at size persons in the lake environment: its results, or {"failed": why}."""
    out = args.logs / f"workers-{size}.json"
    out.unlink(missing_ok=True)
    command = [str(LAKE_PYTHON), "-m", "bench.workers", "--persons", str(size), "--json", str(out)]
    command += ["--memory-limit", args.memory_limit] + (
        ["--workdir", str(args.workdir)] if args.workdir else []
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    with log.open("a") as output:
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    if done.returncode or not out.exists():
        return {"failed": f"bench.workers exited with {done.returncode}; see {log}"}
    return json.loads(out.read_text())


def workers_outcome(workers: dict) -> str:
    """The two setups' full refresh times, or how they failed."""
    if "failed" in workers:
        return f"FAILED ({workers['failed']})"
    return ", ".join(f"{name} {setup['full']['wall_s']:.1f} s" for name, setup in workers.items())
