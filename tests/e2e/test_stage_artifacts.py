"""Each stage records its own counts as a Prefect table artifact, so a run that fails later still shows them."""

import json
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import State

from flows.daily_refresh import daily_refresh
from tests.conftest import SAMPLE_END

STAGE_KEYS = ("extract-counts", "dedupe-counts", "features-counts", "predict-counts", "segment-counts")


def artifacts_of(flow_run_id: UUID) -> dict[str, list[dict]]:
    """The table artifacts of a flow run (its task runs' included), by key."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: json.loads(a.data) for a in found if a.type == "table" and a.key}


def markdown_of(flow_run_id: UUID) -> dict[str, str]:
    """The markdown artifacts of a flow run (its task runs' included), by key."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a.data for a in found if a.type == "markdown" and a.key}


def test_every_stage_records_what_it_built(sample_refresh: tuple[Path, State]) -> None:
    _, state = sample_refresh
    summary = state.result()
    tables = artifacts_of(state.state_details.flow_run_id)
    assert set(STAGE_KEYS) | {"publish-counts", "segment-sizes"} <= set(tables)
    assert tables["extract-counts"] == summary["extract"]
    assert tables["features-counts"] == [
        {"table": "features.orders", "rows": summary["features"]["orders"]},
        {"table": "features.customer_features", "rows": summary["features"]["customers"]},
        {"table": "features.customer_activity", "rows": summary["features"]["customer_activity"]["rows"]},
    ]
    # the customers with activity up to the day: no more than every customer, each summed on a full refresh
    activity = summary["features"]["customer_activity"]
    assert (activity["mode"], activity["customers"]) == ("built", activity["rows"])
    assert 0 < activity["rows"] <= summary["features"]["customers"]
    dedupe = {row["count"]: row["value"] for row in tables["dedupe-counts"]}
    assert dedupe["customer records"] == summary["dedupe"]["records"]
    assert dedupe["customers"] == summary["dedupe"]["customers"]
    # the blocking rules chosen from the data, with the pairs each was counted to propose
    assert tables["dedupe-blocking-counts"] == [
        {"rule": b["rule"], "pairs counted": b["pairs"], "chosen": b["chosen"]}
        for b in summary["dedupe"]["blocking"]
    ]
    assert any(b["chosen"] for b in summary["dedupe"]["blocking"])
    assert tables["predict-counts"] == [
        {"table": "predict.customer_predictions", "rows": summary["predict"]["rows"]}
    ]
    # the backtest, the model behind churn_risk and why, as the report shows them
    backtest = markdown_of(state.state_details.flow_run_id)["predict-backtest"]
    assert backtest.startswith("## Churn risk and future value (流失风险与价值)")
    assert summary["predict"]["churn_model_reason"] in backtest
    segment = {row["table"]: row["rows"] for row in tables["segment-counts"]}
    assert segment["segments.customer_segments"] == summary["segments"]["customers"]
    assert segment["segments.rfm_scores"] == summary["segments"]["scored"]
    published = {row["output"]: row["rows"] for row in tables["publish-counts"]}
    assert published["published.customer_segments"] == summary["publish"]["rows"]


def test_a_run_that_fails_at_publish_still_shows_what_the_stages_built(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    # a destination asking for a field that is never published fails the publish stage
    bad = [{"name": "ads", "kind": "files", "fields": ["customer_id", "no_such_field"]}]
    state = daily_refresh(
        as_of=SAMPLE_END, config=str(make_config(sample_data, destinations=bad)), return_state=True
    )
    assert state.is_failed()
    assert "no_such_field" in state.message
    tables = artifacts_of(state.state_details.flow_run_id)
    assert set(STAGE_KEYS) <= set(tables)
    assert "publish-counts" not in tables
    assert sum(row["rows_staged"] for row in tables["extract-counts"]) > 0
