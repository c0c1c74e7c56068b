"""`make bench-workers`: the lake stack with two workers against one, through the deployments as a user runs them.

For each setup, on the same generated data and a fresh lake stack (`deployments/stack.sh up-lake`: its own
PostgreSQL catalog, a Prefect server with its scheduler, the work pool with two workers, the shipped
deployments): a full refresh of END, then one more day of data and the day after, each a flow run of the
`daily-refresh` deployment created through the API as the UI creates it. Setups:

- one worker: `shards: 1`, each worker one flow run at a time: the refresh runs in one worker's process;
- two workers: `shards: 2`, no limit per worker: the refresh runs on one worker and its sharded work (the
  matcher's candidate pairs of a fit, the customer features, the customer files; the predict scores and the
  segments of a day scored with the stored fits) in flow runs of `stage-shard`, which either worker takes.

Reported per setup: wall time of each refresh (its flow run's start → end, as the server recorded it), of
each stage that can run shards, how its shards ran (flow runs of stage-shard completed by a worker, or given up on and
computed by the refresh), and whether the day after's published rows equal the other setup's (a hash of
every row).
Run in the lake environment (envs/lake/.venv/bin/python -m bench.workers). Appends to BENCHMARKS.md.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from bench.machine import finish_facts, machine
from bench.newday import write_next_day
from bench.postgres import free_port
from bench.report import _machine
from bench.run import END, ROOT, git_commit, write_config

LAKE_ENV = "SEGMENTS_LAKE_CATALOG"
SETUPS = (("one worker", 1, "1"), ("two workers", 2, ""))  # name, shards, SEGMENTS_WORKER_LIMIT
SETUPS_TEXT = (
    "Each setup a fresh lake stack (`deployments/stack.sh up-lake`: a PostgreSQL catalog, a Prefect server, the "
    "work pool with two workers); the full refresh and the next day are flow runs of the daily-refresh "
    "deployment created through the API, timed as the Prefect server recorded them. One worker: `shards: 1`, "
    "the refresh in one worker's process. Two workers: `shards: 2`, the matcher's candidate pairs of the fit, "
    "the customer features and the export's customer files (and on the next day, scored with the stored "
    "models, the predict scores and the segments) in two flow runs of `stage-shard` each that either worker "
    "takes, no limit of flow runs per worker. Stage times: each stage's task run, shards included."
)
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
STAGES = ("dedupe", "features", "predict", "segment", "publish")  # the stages that can run shards


def stack_sh(command: str, env: dict[str, str]) -> None:
    """deployments/stack.sh command; fail with its output."""
    done = subprocess.run(
        ["bash", str(ROOT / "deployments" / "stack.sh"), command], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"stack.sh {command} failed:\n{done.stdout}\n{done.stderr}")


def refresh(api: str, as_of: str) -> dict:
    """One flow run of the daily-refresh deployment for as_of, waited for; its times from the server."""
    deployment = httpx.get(f"{api}/deployments/name/daily-refresh/daily-refresh").json()["id"]
    run = httpx.post(
        f"{api}/deployments/{deployment}/create_flow_run",
        json={"parameters": {"as_of": as_of}, "state": {"type": "SCHEDULED"}},
    ).json()
    while (state := httpx.get(f"{api}/flow_runs/{run['id']}").json())["state"]["type"] not in FINAL:
        time.sleep(2)
    if state["state"]["type"] != "COMPLETED":
        raise RuntimeError(
            f"refresh of {as_of} ended {state['state']['type']}: {state['state'].get('message')}"
        )
    tasks = httpx.post(
        f"{api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [run["id"]]}}, "limit": 50}
    ).json()
    stages = {}
    for stage in STAGES:
        found = next((t for t in tasks if t["name"].startswith(stage)), None)
        if found is None:
            raise RuntimeError(f"refresh of {as_of}: no {stage} task run among {[t['name'] for t in tasks]}")
        stages[stage] = (
            datetime.fromisoformat(found["end_time"]) - datetime.fromisoformat(found["start_time"])
        ).total_seconds()
    # the day's shard runs (run_deployment links each to a task run of its own in the refresh, not to the
    # features task run): this stack runs one refresh per day
    shard_runs = [
        r
        for r in httpx.post(
            f"{api}/flow_runs/filter", json={"flows": {"name": {"any_": ["stage-shard"]}}, "limit": 200}
        ).json()
        if r["parameters"].get("as_of") == as_of
    ]
    seconds = datetime.fromisoformat(state["end_time"]) - datetime.fromisoformat(state["start_time"])
    return {
        "wall_s": seconds.total_seconds(),
        "stages_s": stages,
        "shards_by_workers": sum(1 for r in shard_runs if r["state"]["type"] == "COMPLETED"),
        "shards_started": len(shard_runs),
    }


def published_hash(config: Path, as_of: str) -> tuple[int, str]:
    """Rows of a published day and a hash of all of them (without run ids and times), in any order."""
    from tasks.shared.config import load_config
    from tasks.shared.warehouse import Warehouse

    with Warehouse.open(load_config(config), read_only=True) as wh:
        columns = [
            c for c in wh.columns("published.customer_segments") if c not in {"run_id", "published_at"}
        ]
        quoted = [f'"{c}"' for c in columns]
        count, total = wh.rows(
            f"select count(*), sum(hash(day))::varchar from (select {', '.join(quoted)} "
            "from published.customer_segments where as_of = ?) as day",
            [as_of],
        )[0]
    return count, total


def run_setup(name: str, shards: int, limit: str, data: Path, args: argparse.Namespace) -> dict:
    """A fresh lake stack over data; the full refresh, the next day, the day after's published hash."""
    work = Path(tempfile.mkdtemp(prefix="bench-workers-", dir=args.workdir))
    pg_dir = Path(tempfile.mkdtemp(prefix="bench-workers-pg-"))  # reachable by the postgres user
    pg_port, port = free_port(), free_port()
    lake = {"ducklake": {"catalog": {"dsn_env": LAKE_ENV}, "data_path": str(work / "lake"), "shards": shards}}
    config = write_config(data, args.memory_limit, f"config-{shards}.yaml", {"warehouse": lake})
    overrides = yaml.safe_load(config.read_text()) | {"exports": str(work / "exports")}
    config.write_text(yaml.safe_dump(overrides, allow_unicode=True, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {
        "SEGMENTS_PREFECT_PORT": str(port),
        "SEGMENTS_STACK_DIR": str(work / "stack"),
        "SEGMENTS_LAKE_PG_PORT": str(pg_port),
        "SEGMENTS_LAKE_PG_DIR": str(pg_dir),
        "SEGMENTS_CONFIG": str(config),
        "SEGMENTS_WORKER_LIMIT": limit,
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    api = f"http://127.0.0.1:{port}/api"
    stack_sh("up-lake", env)
    try:
        print(f"  [{name}] stack up; full refresh of {END}", flush=True)
        full = refresh(api, str(END))
        day = END + timedelta(days=1)
        print(f"  [{name}] full {full['wall_s']:.1f} s; the next day", flush=True)
        write_next_day(data, END)
        next_day = refresh(api, str(day))
        print(f"  [{name}] next day {next_day['wall_s']:.1f} s", flush=True)
        os.environ[LAKE_ENV] = f"postgresql://postgres@127.0.0.1:{pg_port}/lake"
        published = published_hash(config, str(day))
    finally:
        stack_sh("down-lake", env)
        shutil.rmtree(pg_dir, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return {"shards": shards, "full": full, "next_day": next_day, "published": published}


def measure(persons: int, args: argparse.Namespace) -> dict:
    """Generate persons' data and run every setup on it; the results by setup name."""
    from sampledata.generate import generate

    data = Path(tempfile.mkdtemp(prefix=f"bench-workers-{persons}-", dir=args.workdir))
    pristine = data.with_name(data.name + "-pristine")
    results = {}
    try:
        stats = generate(data, customers=persons, end=END)
        print(f"generated {sum(stats.rows.values()):,} rows for {persons:,} persons", flush=True)
        shutil.copytree(data, pristine)  # each setup starts from the same files
        for name, shards, limit in SETUPS:
            shutil.rmtree(data)
            shutil.copytree(pristine, data)
            results[name] = run_setup(name, shards, limit, data, args)
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(pristine, ignore_errors=True)
    return results


def main() -> None:
    """Run each setup; append the comparison to BENCHMARKS.md (or write the results as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--workdir", type=Path, default=None, help="where the data goes (default TMPDIR)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--json", type=Path, default=None, help="write the results here as JSON instead (make bench reads it)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated data and lakes")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    facts, started, commit = machine(), datetime.now(UTC), git_commit()
    try:
        results = measure(args.persons, args)
    finally:
        finish_facts(facts)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        return
    # kept whatever happens next: the measurements took many minutes
    kept = Path(tempfile.mkstemp(prefix="bench-workers-", suffix=".json")[1])
    kept.write_text(json.dumps(results, indent=2))
    print(f"results: {kept}")
    report = render(started, commit, facts, args, results)
    with args.output.open("a", encoding="utf-8") as out:
        out.write(report)
    print(report)


def render(started: datetime, commit: str, facts: dict, args: argparse.Namespace, results: dict) -> str:
    """The report section."""
    lines = [
        f"\n## {started:%Y-%m-%d %H:%M} UTC — two workers against one on the lake stack, commit {commit}\n",
        f"`make bench-workers` (`python -m bench.workers --persons {args.persons}`), DuckDB memory_limit "
        f"{args.memory_limit}, the same data for both setups. " + SETUPS_TEXT,
        "",
        *_machine(facts, args.note),
        "",
        *table(results),
    ]
    return "\n".join(lines)


def workers_section(results: dict[int, dict], facts: dict) -> list[str]:
    """`make bench`'s section: two workers against one at the sizes of --workers-sizes, or why not measured."""
    measured = {size: r["workers"] for size, r in results.items() if "workers" in r}
    if not measured:
        return [f"Not measured in this run ({facts.get('lake_missing') or '--workers-sizes'}).", ""]
    lines = [SETUPS_TEXT, ""]
    for size, workers in measured.items():
        lines += [f"{size:,} persons (data generated apart, the same for both setups):", ""]
        lines += [f"**FAILED**: {workers['failed']}", ""] if "failed" in workers else table(workers)
    return lines


def table(results: dict) -> list[str]:
    """The setups side by side and whether they published the same rows (also in `make bench`'s report)."""
    lines = [
        "| setup | shards | full refresh s | its "
        + " / ".join(STAGES)
        + " s | next day s | its "
        + " / ".join(STAGES)
        + " s | shards run by workers (full, next day) | day after published |",
        "|---|---:|---:|---|---:|---|---|---|",
    ]
    for name, r in results.items():
        rows, digest = r["published"]
        full, day = r["full"], r["next_day"]
        lines.append(
            f"| {name} | {r['shards']} | {full['wall_s']:.1f} | {stage_times(full)} | {day['wall_s']:.1f} | "
            f"{stage_times(day)} | "
            f"{r['full']['shards_by_workers']} of {r['full']['shards_started']}, "
            f"{r['next_day']['shards_by_workers']} of {r['next_day']['shards_started']} | "
            f"{rows:,} rows, hash {digest} |"
        )
    hashes = {tuple(r["published"]) for r in results.values()}
    lines += [
        "",
        "Published rows of the day after: "
        + ("**equal** in both setups." if len(hashes) == 1 else "**DIFFERENT** between the setups."),
        "",
    ]
    return lines


def stage_times(refresh: dict) -> str:
    """A refresh's stage times, in STAGES order."""
    return " / ".join(f"{refresh['stages_s'][stage]:.1f}" for stage in STAGES)


if __name__ == "__main__":
    main()
