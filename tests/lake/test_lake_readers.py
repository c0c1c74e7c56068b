"""Readers during writes: a lake is read while a refresh writes it, and never shows a half-published day.

A DuckDB file refuses a reader while a run writes (and a run while a reader has it open). A lake's readers
see its last committed snapshot: a reader process keeps a connection open through a whole daily refresh
(and opens new ones meanwhile), checking in every round that each published day has all of its rows. The
refresh is not held up by it, the reader never fails, and it sees the new day appear whole.
"""

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from flows.daily_refresh import daily_refresh
from tests.conftest import SAMPLE_END
from tests.daily_changes import write_day

ROOT = Path(__file__).resolve().parents[2]


def test_a_reader_reads_through_a_refresh(prefect_server: None, sample_copy: Path, make_lake_config) -> None:
    config = make_lake_config(sample_copy)
    daily_refresh(as_of=SAMPLE_END, config=str(config))
    day = SAMPLE_END + timedelta(days=1)
    write_day(sample_copy, day, 1)

    stop, out = config.parent / "stop", config.parent / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.lake.reader", str(config), str(stop), str(out)], cwd=ROOT
    )
    try:
        time.sleep(3)  # the reader is reading before the refresh starts
        assert reader.poll() is None
        summary = daily_refresh(as_of=day, config=str(config))
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    assert reader.returncode == 0
    seen = json.loads(out.read_text(encoding="utf-8"))
    assert seen["errors"] == []
    assert seen["rounds"] >= 20
    # before the refresh's commit the first day only; after it both, never anything in between
    assert seen["seen"] == [[str(SAMPLE_END)], [str(SAMPLE_END), str(day)]]
    assert summary["as_of"] == str(day)
