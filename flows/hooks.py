"""Flow run hooks: what happens when a run fails."""

import json
from typing import Any

import httpx
from prefect import Flow
from prefect.client.schemas.objects import FlowRun
from prefect.logging.loggers import flow_run_logger
from prefect.states import State

from flows.runs import config_path
from tasks.shared.config import load_config


def failure_summary(flow: Flow, flow_run: FlowRun, state: State) -> dict[str, Any]:
    """What a person needs to know about a failed run, as plain data."""
    return {
        "flow": flow.name,
        "flow_run": flow_run.name,
        "flow_run_id": str(flow_run.id),
        "parameters": {
            key: value if value is None or isinstance(value, str | int | float | bool) else str(value)
            for key, value in (flow_run.parameters or {}).items()
        },
        "state": state.name,
        "message": state.message,
    }


def notify_failure(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """On failure: log a one-line summary, and POST it to the config's failure_webhook if there is one."""
    logger = flow_run_logger(flow_run, flow)
    summary = failure_summary(flow, flow_run, state)
    logger.error("run failed: %s", json.dumps(summary, ensure_ascii=False))
    try:
        webhook = load_config(
            config_path((flow_run.parameters or {}).get("config"))
        ).orchestration.failure_webhook
    except Exception as error:  # noqa: BLE001 - a failure hook must not fail: the config or the server may be why
        logger.warning("no failure webhook: the config cannot be read (%s)", error)
        return
    if webhook is None:
        return
    try:
        response = httpx.post(webhook, json=summary, timeout=10)
        response.raise_for_status()
        logger.info("failure reported to %s (HTTP %d)", webhook, response.status_code)
    except httpx.HTTPError as error:
        logger.warning("could not report the failure to %s: %s", webhook, error)
