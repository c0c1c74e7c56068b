"""Readers during writes, and a refresh killed inside its publish: a lake never shows a half-published day.

A DuckDB file refuses a reader while a run writes (and a run while a reader has it open). A lake's readers
see its last committed snapshot. Here a reader process keeps a connection open (and opens new ones meanwhile)
while a refresh of the next day is SIGKILLed inside its publish transaction (its Parquet files written, its
commit not reached) and then run again; every round it checks that each published day has all the rows its
published.runs row counts. The reader never fails, sees the first day alone until the rerun commits, then both;
the first day's rows never change; the dead transaction's files are there after the kill and gone after the
rerun, which removes what no snapshot knows.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from prefect.settings import PREFECT_API_URL

from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END
from tests.daily_changes import write_day

ROOT = Path(__file__).resolve().parents[2]
DAY = SAMPLE_END + timedelta(days=1)


def published(config_path: Path) -> tuple[list, str]:
    """The published days (published.runs) and an MD5 of SAMPLE_END's published rows."""
    with Warehouse.open(load_config(config_path), read_only=True) as wh:
        days = [day for (day,) in wh.rows("select as_of from published.runs order by as_of")]
        columns = [
            c for c in wh.columns("published.customer_segments") if c not in {"run_id", "published_at"}
        ]
        rows = wh.rows(
            f"select {', '.join(columns)} from published.customer_segments where as_of = ? order by all",
            [SAMPLE_END],
        )
    return days, hashlib.md5(repr(rows).encode()).hexdigest()


def orphaned_files(config_path: Path) -> set[str]:
    """The lake's Parquet files that no snapshot knows (a dry run of the clean-up; it needs a writer)."""
    with Warehouse.open(load_config(config_path)) as wh:
        return {
            path
            for (path,) in wh.rows(
                "select path from ducklake_delete_orphaned_files('lake', dry_run => true, cleanup_all => true)"
            )
        }


def test_a_reader_reads_through_a_killed_refresh_and_its_rerun(
    prefect_server: None, sample_copy: Path, make_lake_config
) -> None:
    config = make_lake_config(sample_copy)
    daily_refresh(as_of=SAMPLE_END, config=str(config))
    days, before = published(config)
    assert days == [SAMPLE_END]
    write_day(sample_copy, DAY, 1)

    stop, out = config.parent / "stop", config.parent / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.lake.reader", str(config), str(stop), str(out)], cwd=ROOT
    )
    try:
        time.sleep(3)  # the reader is reading before the refresh starts
        assert reader.poll() is None
        killed = subprocess.run(
            [sys.executable, "-m", "tests.lake.killed", str(config), DAY.isoformat()],
            cwd=ROOT,
            env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()},
            capture_output=True,
            timeout=600,
        )
        assert killed.returncode == -9, killed.stderr.decode()[-2000:]
        assert published(config) == ([SAMPLE_END], before)  # nothing of the killed day, the day before whole
        orphans = orphaned_files(config)
        assert any("/published/customer_segments/" in path for path in orphans)  # the dead transaction's rows

        summary = daily_refresh(as_of=DAY, config=str(config))
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    assert summary["as_of"] == str(DAY)
    assert published(config) == ([SAMPLE_END, DAY], before)
    assert not orphans & {str(p) for p in load_config(config).warehouse_path.rglob("*.parquet")}

    assert reader.returncode == 0
    seen = json.loads(out.read_text(encoding="utf-8"))
    assert seen["errors"] == []
    assert seen["rounds"] >= 20
    # the first day alone until the rerun committed, then both: never the killed run's rows
    assert seen["seen"] == [[str(SAMPLE_END)], [str(SAMPLE_END), str(DAY)]]
