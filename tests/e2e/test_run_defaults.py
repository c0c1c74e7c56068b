"""A refresh started with no parameters, as a scheduled or quick run is: which config, which day, which name."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.variables import Variable

from flows.daily_refresh import daily_refresh
from flows.runs import CONFIG_ENV, CONFIG_VARIABLE
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse

pytestmark = pytest.mark.e2e


async def run_names(flow_name: str) -> list[str]:
    async with get_client() as client:
        runs = await client.read_flow_runs()
        flows = {flow.id: flow.name for flow in await client.read_flows()}
    return [run.name for run in runs if flows.get(run.flow_id) == flow_name]


def test_a_run_without_parameters_takes_the_prefect_variable_and_the_last_complete_day(
    prefect_server: None, sample_data: Path, make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    config = make_config(sample_data)
    Variable.set(CONFIG_VARIABLE, str(config), overwrite=True)
    try:
        summary = daily_refresh()
    finally:
        Variable.unset(CONFIG_VARIABLE)
    pipeline = load_config(config)
    yesterday = pipeline.today() - timedelta(days=1)
    assert summary["as_of"] == yesterday.isoformat() and summary["partial"] is False
    assert summary["warehouse"] == str(pipeline.warehouse_path)
    with Warehouse.open(pipeline, read_only=True) as wh:
        assert wh.rows("select as_of, partial from published.runs") == [(yesterday, False)]
    assert f"daily-refresh-{yesterday}" in asyncio.run(run_names("daily-refresh"))


def test_the_environment_variable_wins_over_the_prefect_variable(
    prefect_server: None, sample_data: Path, make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen, other = make_config(sample_data), make_config(sample_data)
    monkeypatch.setenv(CONFIG_ENV, str(chosen))
    Variable.set(CONFIG_VARIABLE, str(other), overwrite=True)
    try:
        summary = daily_refresh(as_of=load_config(chosen).today() - timedelta(days=3))
    finally:
        Variable.unset(CONFIG_VARIABLE)
    assert summary["warehouse"] == str(load_config(chosen).warehouse_path)
    assert not load_config(other).warehouse_path.exists()
