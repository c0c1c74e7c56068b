"""A reader of a lake warehouse for tests/lake/test_lake_readers.py: it reads the published tables in a loop
until a stop file appears, and writes what it saw as JSON.

python -m tests.lake.reader CONFIG STOP_FILE OUT_FILE. It keeps one connection open throughout (as a BI
tool does) and also opens a new one every tenth round; each round checks, in one statement (one snapshot),
that every published day has exactly the rows its published.runs row counts. Before the first publish
(no published.runs yet) a round sees no days.
"""

import json
import sys
import time
import traceback
from pathlib import Path

from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse

CHECK = """
select runs.as_of, runs.rows, count(segments.customer_id) as published
from published.runs as runs
left join published.customer_segments as segments on segments.as_of = runs.as_of
group by all
order by runs.as_of
"""


def read(wh: Warehouse) -> list[tuple]:
    """Each published day with its run's row count and the rows there are; none before the first publish."""
    return wh.rows(CHECK) if wh.table_exists("published.runs") else []


def main() -> None:
    config = load_config(sys.argv[1])
    stop, out = Path(sys.argv[2]), Path(sys.argv[3])
    seen: list[list[str]] = []
    errors: list[str] = []
    rounds = 0
    kept = Warehouse.open(config, read_only=True)
    while not stop.exists():
        rounds += 1
        try:
            if rounds % 10 == 0:
                with Warehouse.open(config, read_only=True) as fresh:
                    days = read(fresh)
            else:
                days = read(kept)
            for as_of, rows, published in days:
                if rows != published:
                    errors.append(f"round {rounds}: {as_of} has {published} rows, its run says {rows}")
            listed = [str(as_of) for as_of, _, _ in days]
            if not seen or seen[-1] != listed:
                seen.append(listed)
        except Exception:  # what a reader would see fail
            errors.append(f"round {rounds}: {traceback.format_exc(limit=1)}")
        time.sleep(0.05)
    kept.close()
    out.write_text(json.dumps({"rounds": rounds, "seen": seen, "errors": errors}), encoding="utf-8")


if __name__ == "__main__":
    main()
