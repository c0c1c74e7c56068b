"""The matcher's candidate pairs scored in shards (tasks/dedupe/shards.py) equal one process: a fit and a full
run with the stored model, with 2 and 3 shards, shards run as their flow runs would (pairs_shard, on a
connection of their own that sees only what the stage committed), a shard written twice, a shard whose
config says other settings, and empty shards. The matcher compares, beside the built-in fields, configured
text, date and numeric comparisons (their token counts and numbers go through the work tables)."""

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

import tasks.dedupe.scoring as scoring
from sampledata.generate import generate
from tasks.dedupe import DedupeResult, customer_match_records, dedupe_all, match_settings
from tasks.dedupe import shards as pair_shards
from tasks.dedupe.incremental import STATE_TABLES
from tasks.dedupe.model import load_model
from tasks.dedupe.preparation import prepare_records
from tasks.dedupe.scoring import score_with_model
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


# configured comparisons over match columns of the CRM: a text (token overlap), a date and a number
MATCH_COLUMNS = {
    "memo": '"城市" || \' \' || "省份"',
    "signed_up": 'try_cast("注册时间" as timestamp)::date',
    "phone_tail": 'try_cast(right("手机", 3) as integer)',
}
DEDUPE = {
    "max_block_size": 6,
    "comparisons": [
        {"name": "memo", "kind": "text"},
        {"name": "signed_up", "kind": "date"},
        {"name": "phone_tail", "kind": "numeric"},
    ],
}


def matcher_config(root: Path, name: str, **dedupe: object) -> Path:
    """The test config for the data in root/data, the CRM with the match columns, in root/name."""
    path = write_config(root / "data", root / name, dedupe=DEDUPE | dedupe)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    (crm,) = [source for source in config["sources"] if source["name"] == "crm"]
    crm["match_columns"] = MATCH_COLUMNS
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Sample data extracted into a warehouse (blocks of at most 6 records: many pairs skipped, many kept)."""
    root = tmp_path_factory.mktemp("pair-shards")
    generate(root / "data", customers=600, seed=11, end=END)
    config = matcher_config(root, "base")
    with Warehouse.open(load_config(config)) as wh:
        extract_all(wh, load_config(config), "test")
    return root, config


@pytest.fixture(autouse=True)
def small_em_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """EM trains on a sample of 500 candidate pairs, so that a fit with shards compares only its sample."""
    monkeypatch.setattr(scoring, "EM_SAMPLE", 500)


def copy(world: tuple[Path, Path], name: str, **dedupe: object) -> PipelineConfig:
    """A copy of the extracted warehouse under its own config."""
    root, base = world
    config = load_config(matcher_config(root, name, **dedupe))
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
    # the configured comparisons have values and are compared (their levels in every link's evidence)
    assert result.unused_comparisons == [] and result.unreadable_values == {}
    config = copy(world, "evidence")
    run(config, FIRST)
    with Warehouse.open(config) as wh:
        seen = dict(
            wh.rows(
                "select comparison, count(*) filter (where level >= 0) from core.match_evidence group by 1"
            )
        )
    assert all(seen[name] > 0 for name in ("memo", "signed_up", "phone_tail")), seen


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
    wh: Warehouse, configs: list[PipelineConfig], written_twice: bool = False
) -> Callable[[sharding.ShardPlan, Callable[[int], Any], Any], sharding.ShardRuns]:
    """A run_shards whose shards run as the stage-shard flow runs them: pairs_shard with configs[k] (the
    config file as that run reads it), on a connection of its own to the stage's warehouse, which sees only
    what is committed. A run that fails is computed by the stage (local), as run_shards does; written_twice:
    shard 0's links written by two runs of it."""

    def run_shards(plan: sharding.ShardPlan, local: Callable[[int], Any], logger: Any) -> sharding.ShardRuns:
        runs = sharding.ShardRuns()
        for k in range(plan.shards):
            try:
                for _ in range(2 if written_twice and k == 0 else 1):
                    with wh.scratch() as (own, _folder):
                        pair_shards.pairs_shard(own, configs[k], plan.as_of, k, plan.shards, plan.work_table)
                runs.ran[k] = f"flow run dedupe-{k}"
            except RuntimeError as error:
                runs.ran[k] = f"here (its flow run ended FAILED: {error})"
                local(k)
        return runs

    return run_shards


@pytest.mark.parametrize(
    ("mode", "variant"),
    [("refit", "flow-runs"), ("full", "flow-runs"), ("refit", "written-twice"), ("refit", "other-settings")],
)
def test_shards_run_as_flow_runs_equal_one_process(
    world: tuple[Path, Path], mode: str, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_config, config = copy(world, f"runs-one-{mode}-{variant}"), copy(world, f"runs-{mode}-{variant}")
    day, options = (FIRST, {}) if mode == "refit" else (SECOND, {"rebuild": True})
    if mode == "full":
        for fitted in (one_config, config):
            run(fitted, FIRST)
    one, expected = run(one_config, day, **options)
    # other-settings: shard 2's flow run reads the config file after an edit of the match threshold
    edited = load_config(matcher_config(world[0], f"edited-{mode}", match_threshold=0.5))
    configs = [config, edited if variant == "other-settings" else config]
    with Warehouse.open(config) as wh:
        monkeypatch.setattr(
            sharding, "run_shards", shards_as_flow_runs(wh, configs, variant == "written-twice")
        )
        sharded = dedupe_all(wh, config, day, shard_plan=plan(2, day), **options)
        got = outputs(wh) | {"work tables": work_tables(wh)}
    assert one.matcher_mode == sharded.matcher_mode == mode
    assert got == expected | {"work tables": []}
    assert sharded.shards[0] == "flow run dedupe-0"
    if variant == "other-settings":
        assert sharded.shards[1].startswith(
            "here (its flow run ended FAILED: pair shard 2 of 2: the config's"
        )
    else:
        assert sharded.shards[1] == "flow run dedupe-1"
    assert vars(sharded) | {"shards": {}} == vars(one)


def test_empty_shards_and_a_late_shard_add_nothing(
    world: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = copy(world, "empty-shards")
    run(config, FIRST)  # the stored model
    settings = match_settings(config)
    with Warehouse.open(config) as wh:
        model = load_model(wh, settings.comparisons)
        records = customer_match_records(wh, config)
        nodes = (
            records.select("record_source", "record_id")
            .with_row_index("node")
            .with_columns(pl.col("node").cast(pl.Int64))
        )
        links = wh.frame("select source_a, id_a, source_b, id_b from core.match_links")
        pairs = (
            links.join(
                nodes.rename({"record_source": "source_a", "record_id": "id_a", "node": "left"}),
                on=["source_a", "id_a"],
            )
            .join(
                nodes.rename({"record_source": "source_b", "record_id": "id_b", "node": "right"}),
                on=["source_b", "id_b"],
            )
            .select("left", "right")
        )
        # the links of left nodes 0 modulo 5 and pairs that are none: shards 2 to 5 of 5 have no pair
        linked = pairs.filter(pl.col("left") % 5 == 0)
        unlinked = pl.DataFrame({"left": [0, 5, 10], "right": [1, 6, 11]})
        pairs = pl.concat([linked, unlinked]).unique().sort("left", "right")
        inputs = (
            records.with_row_index("node")
            .with_columns(pl.col("node").cast(pl.Int64))
            .drop("record_source", "record_id")
        )
        prepared = prepare_records(inputs, settings.comparisons, model.decimals)
        expected = score_with_model(prepared, pairs, model, settings)
        monkeypatch.setattr(sharding, "run_shards", shards_as_flow_runs(wh, [config] * 5))
        five = plan(5, FIRST)
        scorer = pair_shards.ShardedScoring(wh, five, logging.getLogger("test"))
        got = scorer(prepared, pairs, model, settings)
        # a shard of this run that starts late, after the stage dropped its work tables: adds nothing
        late = pair_shards.pairs_shard(wh, config, FIRST, 0, 5, five.work_table)
    assert linked.height >= 2 and expected.height == linked.height  # the links, not the others
    assert got.equals(expected)
    assert scorer.runs.ran == {k: f"flow run dedupe-{k}" for k in range(5)}
    assert late == 0
