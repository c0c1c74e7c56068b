"""Stored models over consecutive days: predict and segment score with the stored fits, refit on schedule.

One warehouse ("daily") runs features -> predict -> segment day after day on the generated sample data,
as the daily refresh does. Each day scored with the stored models must equal the same day computed in a
fresh copy of the extracted warehouse where only that day's features were built, given the same stored
fits; a rerun of a fit day with its stored fit must equal the fit itself; and the schedule must refit
on the days it should (first day, days passed, a backfill before every fit, refit=True, settings).
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tasks.dedupe import dedupe_all
from tasks.extract import extract_all
from tasks.features import features_day
from tasks.predict import predict_day
from tasks.predict.shards import parts_table
from tasks.segment import segment_day
from tasks.segment.shards import parts_table as segment_parts_table
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.shards import ShardPlan
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END, write_config

FIRST = SAMPLE_END - timedelta(days=8)
# daily runs: a fit on FIRST, four days scored with it, a refit 7 days after it, a day scored with that
DAYS = [FIRST + timedelta(days=k) for k in (0, 1, 2, 3, 4, 7, 8)]
FITS = {"predict": "predict.model_fits", "segment": "segments.cluster_fits"}
# what a day publishes from these stages, with its columns in a fixed order (run ids and times left out)
OUTPUTS = {
    "predictions": "select * from predict.customer_predictions",
    "clusters": "select * from segments.clusters",
    "customer_segments": "select * from segments.customer_segments",
    "customer_tags": "select * from segments.customer_tags",
    "rfm_scores": "select * from segments.rfm_scores",
    "rule_memberships": "select * from segments.rule_memberships",
    "centroids": "select * from segments.cluster_centroids where as_of = $day",
    "cluster_model": "select * exclude (run_id, created_at) from segments.cluster_models where as_of = $day",
    "models": "select * exclude (run_id, created_at) from predict.models where as_of = $day",
    "backtests": "select * from predict.backtests where as_of = $day",
    "calibration": "select * from predict.calibration where as_of = $day",
}


@dataclass
class Run:
    """What one day's predict and segment runs returned and wrote."""

    predict: dict[str, Any]
    segment: dict[str, Any]
    outputs: dict[str, list[tuple]]


def outputs(wh: Warehouse, day: date) -> dict[str, list[tuple]]:
    """Every output of the day, rows sorted."""
    return {
        name: wh.rows(f"{sql} order by all", {"day": day} if "$day" in sql else None)
        for name, sql in OUTPUTS.items()
    }


def run_day(wh: Warehouse, config: PipelineConfig, day: date, refit: bool = False) -> Run:
    """Features, predict and segment of one day, as the daily refresh runs them."""
    features_day(wh, config, day)
    predicted = predict_day(wh, config, day, f"run-{day}", refit=refit)
    segmented = segment_day(wh, config, day, f"run-{day}", refit=refit)
    return Run(vars(predicted).copy(), vars(segmented).copy(), outputs(wh, day))


def copy_fits(source: Warehouse, target: Warehouse) -> None:
    """Put the source warehouse's stored fits (both stages) into the target warehouse."""
    for model, table in (("predict/model_fits", FITS["predict"]), ("segments/cluster_fits", FITS["segment"])):
        target.ensure(model)
        target.execute(f"delete from {table}")
        for row in source.rows(f"select * from {table} order by fit_day"):
            target.execute(f"insert into {table} values (?, ?, ?, ?, ?, ?)", list(row))


@dataclass
class World:
    """The extracted warehouse (copied per use), its config, and the daily runs over DAYS."""

    base: Path
    config: PipelineConfig
    daily: Path
    runs: dict[date, Run]

    def fresh(self, name: str) -> Warehouse:
        """A new copy of the extracted warehouse (no features, no predictions, no stored fits)."""
        path = self.base.parent / f"{name}.duckdb"
        shutil.copy(self.base, path)
        return Warehouse(path, timezone=self.config.timezone)


@pytest.fixture(scope="module")
def world(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Extract and dedupe the sample data once, then run DAYS one after another in one warehouse."""
    work = tmp_path_factory.mktemp("stored_models")
    config = load_config(write_config(sample_data, work))
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        extract_all(wh, config, "run-extract")
        dedupe_all(wh, config, SAMPLE_END, "run-dedupe")
    base = work / "base.duckdb"
    shutil.copy(config.warehouse_path, base)
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        runs = {day: run_day(wh, config, day) for day in DAYS}
    yield World(base, config, config.warehouse_path, runs)


def test_the_schedule_fits_on_the_first_day_and_every_seven_days(world: World) -> None:
    fitted = FIRST + timedelta(days=7)
    expected = {
        day: (day in (FIRST, fitted), (FIRST if day < fitted else fitted).isoformat()) for day in DAYS
    }
    assert {day: (r.predict["refit"], r.predict["fitted_on"]) for day, r in world.runs.items()} == expected
    assert {
        day: (r.segment["cluster_refit"], r.segment["cluster_fitted_on"]) for day, r in world.runs.items()
    } == expected
    for run in world.runs.values():  # every day has something to compare
        assert all(
            run.outputs[name] for name in ("predictions", "clusters", "customer_segments", "backtests")
        )
        assert run.predict["customers"] > 800 and run.predict["churn_model"]
    assert world.runs[FIRST].predict["refit_reason"] == "no stored models"
    assert world.runs[fitted].predict["refit_reason"] == (
        f"fitted on {FIRST}, 7 days before {fitted} (refit every 7 days)"
    )
    assert world.runs[FIRST + timedelta(days=1)].segment["cluster_refit_reason"] == (
        f"stored models fitted on {FIRST}"
    )


def test_a_day_scored_with_stored_models_equals_the_day_built_from_scratch_with_them(world: World) -> None:
    with Warehouse(world.daily, read_only=True, timezone=world.config.timezone) as daily:
        for day in DAYS:
            if world.runs[day].predict["refit"]:
                continue
            with world.fresh(f"scratch-{day}") as wh:
                copy_fits(daily, wh)
                scratch = run_day(wh, world.config, day)
            assert (scratch.predict["refit"], scratch.segment["cluster_refit"]) == (False, False)
            assert scratch.outputs == world.runs[day].outputs, day
            assert scratch.predict | {"refit_reason": ""} == world.runs[day].predict | {"refit_reason": ""}


@pytest.mark.parametrize("shards", [2, 3])
def test_a_day_scored_in_shards_equals_it_scored_in_one_process(world: World, shards: int) -> None:
    day = FIRST + timedelta(days=3)
    config = world.config
    with (
        Warehouse(world.daily, read_only=True, timezone=config.timezone) as daily,
        world.fresh(f"shards-{shards}") as wh,
    ):
        copy_fits(daily, wh)
        features_day(wh, config, day)
        stale = parts_table()  # a killed run's work table: dropped by the next run
        wh.execute(f"create table {stale} (customer_id varchar)")
        plan = ShardPlan("predict", shards, day, "config.yaml", 1, 1, parts_table())
        result = predict_day(wh, config, day, f"run-{day}", shard_plan=plan)
        predictions = wh.rows(f"{OUTPUTS['predictions']} order by all")
        left = wh.rows("select table_name from information_schema.tables where table_schema = 'predict'")
    one_process = world.runs[day]
    assert result.refit is False
    assert result.shards == {k: "here (not in a flow run)" for k in range(shards)}
    assert predictions == one_process.outputs["predictions"]
    assert (result.rows, result.customers, result.payers, result.risk_tiers) == (
        one_process.predict["rows"],
        one_process.predict["customers"],
        one_process.predict["payers"],
        one_process.predict["risk_tiers"],
    )
    assert not [name for (name,) in left if name.startswith("scores_parts_")]


@pytest.mark.parametrize("shards", [2, 3])
def test_a_day_segmented_in_shards_equals_it_segmented_in_one_process(world: World, shards: int) -> None:
    day = FIRST + timedelta(days=2)
    config = world.config
    with (
        Warehouse(world.daily, read_only=True, timezone=config.timezone) as daily,
        world.fresh(f"segment-shards-{shards}") as wh,
    ):
        copy_fits(daily, wh)
        features_day(wh, config, day)
        predict_day(wh, config, day, f"run-{day}")
        stale = segment_parts_table()  # a killed run's work tables: dropped by the next run
        for suffix in ("", "_clusters", "_rules"):
            wh.execute(f"create table {stale}{suffix} (customer_id varchar)")
        plan = ShardPlan("segment", shards, day, "config.yaml", 1, 1, segment_parts_table())
        result = segment_day(wh, config, day, f"run-{day}", shard_plan=plan)
        sharded = outputs(wh, day)
        left = wh.rows("select table_name from information_schema.tables where table_schema = 'segments'")
    one_process = world.runs[day]
    assert result.cluster_refit is False
    assert result.shards == {k: "here (not in a flow run)" for k in range(shards)}
    assert one_process.outputs["rule_memberships"] and one_process.outputs["clusters"]
    assert sharded == one_process.outputs
    assert vars(result) | {"shards": {}} == one_process.segment
    assert not [name for (name,) in left if name.startswith("segment_parts_")]


def test_days_scored_with_stored_models_keep_the_fit_days_backtest_ids_and_names(world: World) -> None:
    fit, later = world.runs[FIRST], world.runs[FIRST + timedelta(days=4)]
    assert later.outputs["predictions"] != fit.outputs["predictions"]  # another day's customers and figures
    for name in ("backtests", "calibration"):
        assert [row[1:] for row in later.outputs[name]] == [row[1:] for row in fit.outputs[name]]
    assert [row[1:] for row in later.outputs["models"]] == [row[1:] for row in fit.outputs["models"]]
    for key in ("backtest", "backtest_means", "churn_model", "churn_model_reason", "bgnbd", "gamma_gamma"):
        assert later.predict[key] == fit.predict[key]
    # the same clusters, ids and names; the sizes are the day's, at distance 0 from the fit day's
    assert [(r[1], r[2], r[3], r[6:]) for r in later.outputs["centroids"]] == [
        (r[1], r[2], r[3], r[6:]) for r in fit.outputs["centroids"]
    ]
    assert {r[5] for r in later.outputs["centroids"]} == {0.0}
    assert later.segment["cluster_model"]["previous_as_of"] == FIRST.isoformat()
    assert later.segment["cluster_model"]["tree_rules"] == fit.segment["cluster_model"]["tree_rules"]


def test_a_rerun_of_a_fit_day_with_its_stored_fit_equals_the_fit(world: World) -> None:
    with world.fresh("rerun") as wh:
        first = run_day(wh, world.config, FIRST)
        again = run_day(wh, world.config, FIRST)
    assert (first.predict["refit"], again.predict["refit"], again.segment["cluster_refit"]) == (
        True,
        False,
        False,
    )
    assert again.outputs == first.outputs == world.runs[FIRST].outputs
    assert again.predict | {"refit": True, "refit_reason": ""} == first.predict | {"refit_reason": ""}


def test_refit_and_settings_changes_fit_again_and_a_refit_is_the_computation_without_a_store(
    world: World,
) -> None:
    day = FIRST + timedelta(days=2)
    with (
        Warehouse(world.daily, read_only=True, timezone=world.config.timezone) as daily,
        world.fresh("refit") as wh,
    ):
        copy_fits(daily, wh)
        asked = run_day(wh, world.config, day, refit=True)
        changed_config = world.config.model_copy(
            update={
                "predict": replace_model(world.config.predict, min_customers=101),
                "segments": replace_model(world.config.segments, cluster_fit_sample_size=150_000),
            }
        )
        changed = run_day(wh, changed_config, day + timedelta(days=1))
    with world.fresh("no-store") as wh:
        unstored = run_day(wh, world.config, day)
    assert (asked.predict["refit_reason"], asked.segment["cluster_refit_reason"]) == ("refit requested",) * 2
    assert asked.predict["fitted_on"] == day.isoformat()
    # fitting again as asked computes what a warehouse without any stored fit computes
    assert asked.outputs == unstored.outputs
    assert asked.predict | {"refit_reason": ""} == unstored.predict | {"refit_reason": ""}
    reason = f"the settings or the fitting code changed since the fit on {day}"
    assert (changed.predict["refit_reason"], changed.segment["cluster_refit_reason"]) == (reason, reason)


def test_a_backfill_before_every_fit_fits_again_and_later_days_keep_their_fits(world: World) -> None:
    before = FIRST - timedelta(days=1)
    with (
        Warehouse(world.daily, read_only=True, timezone=world.config.timezone) as daily,
        world.fresh("backfill") as wh,
    ):
        copy_fits(daily, wh)
        backfilled = run_day(wh, world.config, before)
        rerun = run_day(wh, world.config, FIRST + timedelta(days=3))
        fits = wh.rows("select fit_day from predict.model_fits order by 1")
    reason = f"the stored models were fitted on {FIRST}, after {before} (they have seen the future)"
    assert (backfilled.predict["refit_reason"], backfilled.segment["cluster_refit_reason"]) == (
        reason,
        reason,
    )
    assert fits == [(before,), (FIRST,), (FIRST + timedelta(days=7),)]
    # a day between two fits is scored with the latest fit on or before it, as the daily run did
    assert (rerun.predict["fitted_on"], rerun.predict["refit"]) == (FIRST.isoformat(), False)
    assert rerun.outputs == world.runs[FIRST + timedelta(days=3)].outputs


def replace_model(model: Any, **changes: Any) -> Any:
    """A pydantic config with some fields changed (validated again)."""
    return type(model).model_validate(model.model_dump() | changes)
