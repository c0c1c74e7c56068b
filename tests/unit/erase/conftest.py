"""The small world of world.py, built once per session and copied for each test (an erasure changes it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.unit.erase.world import CRM, DAY1, DAY2, World, make_world, run_day

HALF_WRITTEN = "contacts/.customers.csv.tmp"  # a crashed atomic write's file, under its temporary name
TRANSCODED = ".extract-run-8"  # the transcoding folder of an extract that was killed
SCRATCH = "warehouse.duckdb.scratch"  # the scratch folder of a dedupe that was killed (Warehouse.scratch)


@pytest.fixture(scope="session")
def built_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world after two days, with the leftovers of a crashed publish and a crashed extract (read-only)."""
    world = make_world(tmp_path_factory.mktemp("world"))
    with Warehouse.open(world.config) as wh:
        run_day(wh, world, DAY1, "run-1")
        run_day(wh, world, DAY2, "run-2")
    versions = world.exports / ".versions" / DAY2.isoformat()
    (kept,) = [p for p in versions.iterdir() if not p.name.startswith(".")]
    # a publish killed before its manifest: the unfinished version, and a file under its temporary name
    crashed = versions / ".20260120T235959000000Z-run-9.tmp"
    shutil.copytree(kept, crashed, ignore=shutil.ignore_patterns("manifest.json"))
    whole = (kept / "customer_segments.csv").read_bytes()
    (crashed / HALF_WRITTEN).write_bytes(whole[:-20])
    # an extract killed while reading the UTF-8 copy of the CRM file
    (world.folder / TRANSCODED).mkdir()
    (world.folder / TRANSCODED / "0a1b2c3d.utf8.csv").write_text(CRM, encoding="utf-8")
    # a dedupe killed while its blocking keys were in Parquet
    keys = pl.DataFrame(
        {"rule": ["email"], "key": ["a@example.com"], "record_source": ["crm"], "record_id": ["1"]}
    )
    (world.folder / SCRATCH / "scratch-x").mkdir(parents=True)
    keys.write_parquet(world.folder / SCRATCH / "scratch-x" / "keys.parquet")
    return world.folder


@pytest.fixture
def world(built_world: Path, tmp_path: Path) -> Iterator[tuple[World, Warehouse]]:
    """A private copy of the built world and its warehouse, open."""
    folder = tmp_path / "world"
    shutil.copytree(built_world, folder, symlinks=True)
    config = load_config(folder / "pipeline.yaml")
    with Warehouse.open(config) as wh:
        yield World(folder, config), wh
