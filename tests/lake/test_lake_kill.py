"""A lake refresh SIGKILLed inside its publish transaction: readers see the day before, whole and unchanged;
the files the dead transaction wrote are removed by the next run, which publishes the day as a clean run."""

import hashlib
import os
import subprocess
import sys
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


def published(config_path: Path) -> tuple[list, str, set[str]]:
    """The published days (from published.runs), an MD5 of SAMPLE_END's published rows, and the files the
    lake's catalog lists for every table."""
    with Warehouse.open(load_config(config_path), read_only=True) as wh:
        days = [day for (day,) in wh.rows("select as_of from published.runs order by as_of")]
        columns = [
            c for c in wh.columns("published.customer_segments") if c not in {"run_id", "published_at"}
        ]
        rows = wh.rows(
            f"select {', '.join(columns)} from published.customer_segments where as_of = ? order by all",
            [SAMPLE_END],
        )
        listed = {
            path
            for (table,) in wh.rows(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_catalog = 'lake' and table_type = 'BASE TABLE'"
            )
            for (path,) in wh.rows(
                f"select data_file from ducklake_list_files('lake', '{table.split('.')[1]}', "
                f"schema => '{table.split('.')[0]}')"
            )
        }
    return days, hashlib.md5(repr(rows).encode()).hexdigest(), listed


def test_a_lake_refresh_killed_in_publish(prefect_server: None, sample_copy: Path, make_lake_config) -> None:
    config = make_lake_config(sample_copy)
    daily_refresh(as_of=SAMPLE_END, config=str(config))
    days, before, _ = published(config)
    assert days == [SAMPLE_END]
    write_day(sample_copy, DAY, 1)

    killed = subprocess.run(
        [sys.executable, "-m", "tests.lake.killed", str(config), DAY.isoformat()],
        cwd=ROOT,
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()},
        capture_output=True,
        timeout=600,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]

    days, after_kill, listed = published(config)
    assert (days, after_kill) == ([SAMPLE_END], before)  # the day before whole, nothing of the killed day
    data = load_config(config).warehouse_path
    with Warehouse.open(load_config(config)) as wh:  # files no snapshot knows (a dry run needs a writer)
        orphans = {
            path
            for (path,) in wh.rows(
                "select path from ducklake_delete_orphaned_files('lake', dry_run => true, cleanup_all => true)"
            )
        }
    assert any("/published/customer_segments/" in p for p in orphans)  # the dead transaction's rows
    assert orphans <= {str(p) for p in data.rglob("*.parquet")} - listed

    daily_refresh(as_of=DAY, config=str(config))
    days, after_rerun, listed = published(config)
    assert (days, after_rerun) == ([SAMPLE_END, DAY], before)
    assert not orphans & {str(p) for p in data.rglob("*.parquet")}  # the dead run's files are gone
