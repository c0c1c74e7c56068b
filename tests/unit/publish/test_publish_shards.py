"""The customer files of a publish written in shards (tasks/publish/shards.py) equal those written at once.

Two warehouses refreshed alike from the sample data up to the publish; one publishes its day in one process,
the other with its customer files in 3 shards (computed here: not a flow run). The two export versions hold
the same files: the CSV byte for byte, the Parquet the same rows and types. A killed sharded publish's part
files and work table are removed by the next publish.
"""

import logging
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flows.direct import run_stages
from tasks.publish import publish_day
from tasks.publish.shards import (
    customer_parts,
    join_parts,
    parts_folder,
    parts_table,
    shard_range,
    write_part,
)
from tasks.shared import shards as sharding
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.shards import ShardPlan, ShardRuns
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END, write_config

SHARDS = 3
LOGGER = logging.getLogger("publish-shards")


def published(config: PipelineConfig, as_of: date) -> list[tuple]:
    """The day's published customer rows, sorted."""
    with Warehouse.open(config, read_only=True) as wh:
        return wh.rows(
            "select * exclude (run_id) from published.customer_segments where as_of = ? order by all", [as_of]
        )


def given_ids(config: PipelineConfig) -> dict[str, str | None]:
    """Each published customer's source_ids as the export defines them, computed here from the identity map:
    the ids of its CRM records (the sample's facts reference people by e-mail, phone or device id)."""
    with Warehouse.open(config, read_only=True) as wh:
        customers = wh.rows(
            "select customer_id from published.customer_segments where as_of = ?", [SAMPLE_END]
        )
        records = wh.rows("select customer_id, source, source_id from core.identity_map")
    ids: dict[str, list[str]] = {customer: [] for (customer,) in customers}
    for customer, source, source_id in records:
        if customer in ids and not source_id.startswith(("email:", "phone:", "device:", "row:")):
            ids[customer].append(f"{source}:{source_id}")
    assert {source for _, source, source_id in records if ":" not in source_id} == {"crm"}
    return {customer: ";".join(sorted(found)) or None for customer, found in ids.items()}


@pytest.fixture(scope="module")
def publishes(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, PipelineConfig]:
    """The day published in one process ("one") and with its customer files in shards ("sharded")."""
    work = tmp_path_factory.mktemp("publish_shards")
    configs = {  # with the ids the sources know the customers by, which each shard reads for its own
        name: load_config(write_config(sample_data, work / name, export_source_ids=True))
        for name in ("one", "sharded")
    }
    for name, config in configs.items():
        summary = run_stages(config, SAMPLE_END, f"run-{SAMPLE_END}", logger=LOGGER)
        plan = None
        if name == "sharded":
            plan = ShardPlan("publish", SHARDS, SAMPLE_END, str(config.file), 1, 1, parts_table())
            with Warehouse.open(config) as wh:  # what a killed sharded publish leaves: removed by the next
                stale = parts_table()
                wh.execute(f"create table {stale} (customer_id varchar)")
            left = parts_folder(config.exports_path, SAMPLE_END, stale)
            left.mkdir(parents=True)
            (left / "part-00000.csv").write_text("C1,stale\n", encoding="utf-8")
        with Warehouse.open(config) as wh:
            publish_day(wh, config, SAMPLE_END, f"run-{SAMPLE_END}", summary, LOGGER, plan)
    return configs


def test_customer_files_written_in_shards_equal_those_written_at_once(
    publishes: dict[str, PipelineConfig],
) -> None:
    one, sharded = (publishes[name].exports_path / SAMPLE_END.isoformat() for name in ("one", "sharded"))
    rows = published(publishes["one"], SAMPLE_END)
    assert len(rows) > 1000
    assert published(publishes["sharded"], SAMPLE_END) == rows
    csv = (one / "customer_segments.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbfas_of,customer_id,source_ids,recency_days,")
    assert csv.count(b"\n") == len(rows) + 1
    assert (sharded / "customer_segments.csv").read_bytes() == csv
    parquet = pl.read_parquet(one / "customer_segments.parquet")
    assert parquet.height == len(rows)
    assert parquet["customer_id"].is_sorted()
    assert pl.read_parquet(sharded / "customer_segments.parquet").equals(parquet)
    assert dict(zip(parquet["customer_id"], parquet["source_ids"], strict=True)) == given_ids(
        publishes["one"]
    )
    assert pl.read_parquet_schema(sharded / "customer_segments.parquet") == pl.read_parquet_schema(
        one / "customer_segments.parquet"
    )
    # every other file too, and the manifest's counts
    names = sorted(p.name for p in one.iterdir() if p.is_file() and p.suffix in (".csv", ".md"))
    assert names == sorted(p.name for p in sharded.iterdir() if p.is_file() and p.suffix in (".csv", ".md"))
    for name in names:
        if name != "report.md":  # names the run's warehouse
            assert (sharded / name).read_bytes() == (one / name).read_bytes(), name


def test_a_sharded_publish_leaves_no_work_table_or_part_files(publishes: dict[str, PipelineConfig]) -> None:
    config = publishes["sharded"]
    versions = config.exports_path / ".versions" / SAMPLE_END.isoformat()
    assert [p.name for p in versions.iterdir() if p.name.startswith(".")] == []
    with Warehouse.open(config, read_only=True) as wh:
        left = wh.rows("select table_name from information_schema.tables where table_schema = 'published'")
    assert [name for (name,) in left if name.startswith("export_parts_")] == []


def test_a_part_no_file_of_which_is_here_after_its_flow_run_is_written_here(
    publishes: dict[str, PipelineConfig], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a flow run that ended COMPLETED on a host whose exports folder is not this one: its files are not here
    def ran_elsewhere(plan: ShardPlan, local: Any, logger: Any) -> ShardRuns:
        return ShardRuns({k: f"flow run elsewhere-{k}" for k in range(plan.shards)})

    monkeypatch.setattr(sharding, "run_shards", ran_elsewhere)
    config = publishes["sharded"]
    rows = len(published(config, SAMPLE_END))
    plan = ShardPlan("publish", SHARDS, SAMPLE_END, str(config.file), 1, 1, parts_table())
    with (
        Warehouse.open(config) as wh,
        customer_parts(wh, config, SAMPLE_END, "run-again", plan, LOGGER) as (
            folder,
            ran,
        ),
    ):
        # a second writer of one part: the same file
        write_part(wh, plan.work_table, folder, 1, SHARDS, SAMPLE_END, config.privacy.pii_fields, True)
        assert sorted(p.name for p in folder.iterdir()) == [
            f"part-{k:05d}.{suffix}" for k in range(SHARDS) for suffix in ("csv", "parquet")
        ]
        assert ran.ran == {
            k: "here (its flow run's part files are not in the exports folder)" for k in range(SHARDS)
        }
        assert join_parts(folder, SHARDS, tmp_path) == {
            "customer_segments.parquet": rows,
            "customer_segments.csv": rows,
        }
    exported = config.exports_path / SAMPLE_END.isoformat() / "customer_segments.csv"
    assert (tmp_path / "customer_segments.csv").read_bytes() == exported.read_bytes()
    assert not folder.exists()


def test_the_ranges_of_the_shards_cover_every_customer_once(wh: Warehouse) -> None:
    wh.execute(
        "create table published.export_parts_0123456789ab as "
        "select 'C' || lpad(i::varchar, 4, '0') as customer_id from range(10) as t(i)"
    )
    table = "published.export_parts_0123456789ab"
    kept = [
        [
            r[0]
            for r in wh.rows(
                f"select customer_id from {table} where {shard_range(wh, table, k, 3)} order by 1"
            )
        ]
        for k in range(3)
    ]
    assert kept == [
        ["C0000", "C0001", "C0002"],
        ["C0003", "C0004", "C0005"],
        ["C0006", "C0007", "C0008", "C0009"],
    ]
    assert shard_range(wh, table, 0, 1) == "true"
    wh.execute(f"delete from {table}")
    assert [shard_range(wh, table, k, 3) for k in range(3)] == ["true", "false", "false"]
    with pytest.raises(ValueError, match="shard 3 is not one of 0..2"):
        shard_range(wh, table, 3, 3)
