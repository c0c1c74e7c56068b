"""core.fact_observations kept up to date file by file: day after day equal to a build from every staged fact.

A generated sample goes through the real extract and dedupe: new days' files (new, late, changed and
merging records, tests/daily_changes.py), a backfill to an earlier day, an erasure (tasks/erase) and a
file changed after it was read. After each, the observations of the warehouse kept up to date equal those
of a copy whose observation tables were dropped first (built from scratch).
"""

from datetime import date, timedelta
from pathlib import Path

import pytest

from sampledata.generate import generate
from tasks.dedupe import DedupeResult, dedupe_all
from tasks.dedupe.observations import STATE_TABLES
from tasks.erase import erase_customer
from tasks.extract import extract_all
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.warehouse import Warehouse
from tests.backend import copy_warehouse
from tests.conftest import write_config
from tests.daily_changes import write_day

END = date(2026, 11, 22)
OBSERVED = ("core.fact_observations", "core.record_observations", "core.identity_map")


def observed(wh: Warehouse) -> dict[str, list[tuple]]:
    """The tables compared, sorted."""
    return {table: wh.rows(f"select * from {table} order by all") for table in OBSERVED}


def scratch(config: PipelineConfig, copy: PipelineConfig, as_of: date) -> dict[str, list[tuple]]:
    """The observed tables of a copy of config's warehouse whose observations are built from scratch."""
    copy_warehouse(config, copy)
    with Warehouse.open(copy) as wh:
        for table in STATE_TABLES:
            wh.execute(f"drop table {table}")
        assert dedupe_all(wh, copy, as_of).observations_rebuilt == "no core.fact_observations yet"
        return observed(wh)


def run(
    config: PipelineConfig, as_of: date, load: bool = True
) -> tuple[DedupeResult, dict[str, list[tuple]]]:
    """Extract what is new (load) and dedupe as of as_of; the result and the observed tables."""
    with Warehouse.open(config) as wh:
        if load:
            extract_all(wh, config, f"run-{as_of}")
        return dedupe_all(wh, config, as_of), observed(wh)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PipelineConfig, PipelineConfig]:
    """A generated sample (data folder), the config of the warehouse kept up to date and of its copies."""
    root = tmp_path_factory.mktemp("observations")
    generate(root / "data", customers=400, seed=11, end=END)
    kept = load_config(write_config(root / "data", root / "kept"))
    copy = load_config(write_config(root / "data", root / "copy"))
    return root / "data", kept, copy


def test_observations_kept_up_to_date_equal_a_build_from_scratch(
    world: tuple[Path, PipelineConfig, PipelineConfig],
) -> None:
    data, kept, copy = world
    first, _ = run(kept, END)
    assert first.observations_rebuilt == "no core.fact_observations yet"
    for index in (1, 2):
        day = END + timedelta(days=index)
        write_day(data, day, index)  # new sessions and payments, late ones, new, changed and merging members
        result, got = run(kept, day)
        assert result.observations_rebuilt is None, day  # the day's files folded in
        assert got == scratch(kept, copy, day), day
    with Warehouse.open(kept) as wh:
        late = wh.scalar(
            "select count(*) from core.fact_observations where first_seen < $before",
            {"before": wh.cutoff(END)},
        )
    assert late > 0

    # a backfill to an earlier day reads the same observations through its cutoff
    backfill = END - timedelta(days=30)
    result, got = run(kept, backfill, load=False)
    assert result.observations_rebuilt is None
    assert got == scratch(kept, copy, backfill)
    assert len(got["core.record_observations"]) < len(
        run(kept, END + timedelta(days=2), load=False)[1]["core.record_observations"]
    )


def test_an_erasure_or_a_file_read_again_rebuilds_the_observations(
    world: tuple[Path, PipelineConfig, PipelineConfig],
) -> None:
    data, kept, copy = world
    day = END + timedelta(days=2)
    run(kept, day)
    with Warehouse.open(kept) as wh:
        # someone with sessions and payments of their own
        customer_id = wh.scalar(
            "select customer_id from core.identity_map join core.fact_observations "
            "on record_source = source and record_id = source_id where source = 'crm' "
            "order by customer_id limit 1"
        )
        erase_customer(wh, kept, customer_id)
    result, got = run(kept, day)
    assert result.observations_rebuilt is not None and "erasure" in result.observations_rebuilt
    assert got == scratch(kept, copy, day)
    assert customer_id not in {row[2] for row in got["core.identity_map"]}

    payments = data / "payments" / f"payments-{day.isoformat()}.csv"
    lines = payments.read_text().splitlines()
    payments.write_text("\n".join(lines[:-1]) + "\n")  # the file sent again without its last payment
    result, got = run(kept, day)
    assert (
        result.observations_rebuilt
        == "1 folded files were re-read, re-staged, or had rows replaced or erased"
    )
    assert got == scratch(kept, copy, day)
    again, _ = run(kept, day)
    assert again.observations_rebuilt is None
