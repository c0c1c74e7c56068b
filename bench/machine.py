"""What a benchmark ran on: cores, memory, versions, load, and how fast the machine was at the start and
the end (fixed reference work), for bench/run.py's and bench/large.py's reports."""

import contextlib
import os
import platform
import time
from importlib import metadata
from pathlib import Path

PACKAGES = ("duckdb", "polars", "prefect", "scikit-learn", "pandas", "splink", "pyarrow", "numpy")
# Reference work timed at the start and end of every benchmark: on this shared virtual machine the
# same code and data took 202 s in the morning and 134 s at noon, so a report has to say how fast the
# machine was while it ran. DuckDB groups 100M generated rows; Python runs a 30M-step loop.
SPEED_SQL = "select sum(n) from (select i % 1000003 as g, count(*) as n, sum(i * 0.5) from range(100000000) t(i) group by g)"
SPEED_LOOP_STEPS = 30_000_000


def machine() -> dict:
    """What the figures were measured on."""
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().split("\n")
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(total_kib / 1024**2, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "speed_at_start": speed_check(),
        "cpu_times_at_start": cpu_times(),
        "versions": versions,
    }


def speed_check() -> dict[str, float]:
    """Seconds for fixed reference work, best of three: a DuckDB group-by on all cores and a Python loop."""
    import duckdb

    def best(work) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return round(min(times), 3)

    def loop() -> None:
        total = 0
        for i in range(SPEED_LOOP_STEPS):
            total += i & 7

    with duckdb.connect() as con:
        duckdb_s = best(lambda: con.execute(SPEED_SQL).fetchall())
    return {"duckdb_s": duckdb_s, "python_s": best(loop)}


def cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat: user nice system idle iowait irq softirq steal …)."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def finish_facts(facts: dict) -> None:
    """Machine facts at the end: load, reference speed, and the share of CPU time the host took (steal)."""
    facts["load_average_at_end"] = os.getloadavg()
    facts["speed_at_end"] = speed_check()
    start, end = facts["cpu_times_at_start"], cpu_times()
    spent = sum(end) - sum(start)
    facts["steal_share"] = (end[7] - start[7]) / spent if spent and len(end) > 7 else None


def folder_bytes(path: Path) -> int:
    """Bytes of the files under path (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # a spill file removed while we walked
                total += (Path(root) / name).stat().st_size
    return total
