"""The matcher's candidate pairs scored in shards (tasks/dedupe/shards.py) equal one process: a fit and a full
run with the stored model, with 2 and 3 shards, a shard computed twice, and shards run as their flow runs
would (pairs_shard, on a connection of their own that sees only what the stage committed)."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import tasks.dedupe.scoring as scoring
from sampledata.generate import generate
from tasks.dedupe import DedupeResult, dedupe_all
from tasks.dedupe import shards as pair_shards
from tasks.dedupe.incremental import STATE_TABLES
from tasks.extract import extract_all
from tasks.shared import shards as sharding
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.warehouse import Warehouse
from tests.backend import copy_warehouse
from tests.conftest import write_config

END = date(2026, 11, 22)
FIRST, SECOND = date(2026, 11, 20), date(2026, 11, 21)
COMPARED = ("core.identity_map", "core.customers", "core.match_links", "core.match_evidence", *STATE_TABLES)


def rows(wh: Warehouse, name: str) -> list[tuple]:
    """Every row of a table, sorted (the model without its fit time; the state's meta without its records'
    signature, equal anyway)."""
    select = "select * exclude (fitted_at)" if name == "core.match_model" else "select *"
    return sorted(wh.rows(f"{select} from {name}"), key=repr)


def outputs(wh: Warehouse) -> dict[str, list[tuple]]:
    """What a sharded run must leave as one process does."""
    return {name: rows(wh, name) for name in (*COMPARED, "core.match_model", "core.match_model_values")}


def work_tables(wh: Warehouse) -> list[str]:
    """The pair shards' work tables left in the warehouse."""
    return [
        name
        for (name,) in wh.rows("select table_name from information_schema.tables where table_schema = 'core'")
        if name.startswith("match_parts_")
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Sample data extracted into a warehouse (blocks of at most 6 records: many pairs skipped, many kept)."""
    root = tmp_path_factory.mktemp("pair-shards")
    generate(root / "data", customers=600, seed=11, end=END)
    config = write_config(root / "data", root / "base", dedupe={"max_block_size": 6})
    with Warehouse.open(load_config(config)) as wh:
        extract_all(wh, load_config(config), "test")
    return root, config


@pytest.fixture(autouse=True)
def small_em_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """EM trains on a sample of 500 candidate pairs, so that a fit with shards compares only its sample."""
    monkeypatch.setattr(scoring, "EM_SAMPLE", 500)


def copy(world: tuple[Path, Path], name: str) -> PipelineConfig:
    """A copy of the extracted warehouse under its own config."""
    root, base = world
    config = load_config(write_config(root / "data", root / name, dedupe={"max_block_size": 6}))
    copy_warehouse(load_config(base), config)
    return config


def plan(shards: int, day: date) -> sharding.ShardPlan:
    """A plan of `shards` pair shards for day (no deployment: a test is not a flow run)."""
    return sharding.ShardPlan("dedupe", shards, day, "config.yaml", 1, 1, pair_shards.parts_table())


def run(
    config: PipelineConfig, day: date, shard_plan: sharding.ShardPlan | None = None, **options: Any
) -> tuple[DedupeResult, dict]:
    """dedupe_all of day, and what it left."""
    with Warehouse.open(config) as wh:
        result = dedupe_all(wh, config, day, shard_plan=shard_plan, **options)
        return result, outputs(wh) | {"work tables": work_tables(wh)}


def test_the_world_has_pairs_to_shard(world: tuple[Path, Path]) -> None:
    result, left = run(copy(world, "one"), FIRST)
    assert result.matcher_mode == "refit"
    assert result.candidate_pairs > 500  # EM trained on a sample of them
    assert result.probabilistic_links > 10
    assert len(left["core.match_links"]) == result.probabilistic_links - result.one_to_one_dropped


@pytest.mark.parametrize("shards", [2, 3])
def test_a_fit_scored_in_shards_equals_one_process(world: tuple[Path, Path], shards: int) -> None:
    one, expected = run(copy(world, f"fit-one-{shards}"), FIRST)
    sharded_config = copy(world, f"fit-sharded-{shards}")
    with Warehouse.open(sharded_config) as wh:  # a killed run's work tables: dropped by the next
        for suffix in pair_shards.SUFFIXES:
            wh.execute(f"create table {pair_shards.parts_table()}{suffix} (node bigint)")
    sharded, got = run(sharded_config, FIRST, plan(shards, FIRST))
    assert sharded.matcher_mode == one.matcher_mode == "refit"
    assert sharded.shards == {k: "here (not in a flow run)" for k in range(shards)}
    assert got == expected | {"work tables": []}
    assert vars(sharded) | {"shards": {}} == vars(one)


def test_a_full_run_with_the_stored_model_scored_in_shards_equals_one_process(
    world: tuple[Path, Path],
) -> None:
    one_config, sharded_config = copy(world, "full-one"), copy(world, "full-sharded")
    for config in (one_config, sharded_config):
        run(config, FIRST)  # the fit, in one process for both
    one, expected = run(one_config, SECOND, rebuild=True)
    sharded, got = run(sharded_config, SECOND, plan(2, SECOND), rebuild=True)
    assert sharded.matcher_mode == one.matcher_mode == "full"
    assert sharded.shards == {0: "here (not in a flow run)", 1: "here (not in a flow run)"}
    assert got == expected | {"work tables": []}
    assert vars(sharded) | {"shards": {}} == vars(one)
    # the next day is incremental: it scores only the pairs of changed records, in its own process
    incremental, _ = run(sharded_config, SECOND, plan(2, SECOND))
    assert incremental.matcher_mode == "incremental" and incremental.shards == {}


def shards_as_flow_runs(
    wh: Warehouse, config: PipelineConfig, twice: bool
) -> Callable[[sharding.ShardPlan, Callable[[int], Any], Any], sharding.ShardRuns]:
    """A run_shards whose shards run as the stage-shard flow runs them (pairs_shard, on a connection of their
    own to the stage's warehouse, which sees only what is committed); twice: shard 0 then also computed by
    the stage, as when its flow run was given up on and ran after all."""

    def run_shards(plan: sharding.ShardPlan, local: Callable[[int], Any], logger: Any) -> sharding.ShardRuns:
        runs = sharding.ShardRuns()
        for k in range(plan.shards):
            with wh.scratch() as (own, _):
                assert pair_shards.pairs_shard(own, config, plan.as_of, k, plan.shards, plan.work_table) > 0
            runs.ran[k] = f"flow run dedupe-{k}"
        if twice:
            local(0)
            runs.ran[0] = "here (its flow run was given up on)"
        return runs

    return run_shards


@pytest.mark.parametrize("twice", [False, True], ids=["flow-runs", "a-shard-twice"])
def test_shards_run_as_flow_runs_equal_one_process(
    world: tuple[Path, Path], twice: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, expected = run(copy(world, f"runs-one-{twice}"), FIRST)
    config = copy(world, f"runs-sharded-{twice}")
    with Warehouse.open(config) as wh:
        monkeypatch.setattr(sharding, "run_shards", shards_as_flow_runs(wh, config, twice))
        sharded = dedupe_all(wh, config, FIRST, shard_plan=plan(2, FIRST))
        got = outputs(wh) | {"work tables": work_tables(wh)}
    assert got == expected | {"work tables": []}
    assert sharded.shards[1] == "flow run dedupe-1"
    assert vars(sharded) | {"shards": {}} == vars(one)
