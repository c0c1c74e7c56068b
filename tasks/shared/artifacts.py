"""What a stage built, as a Prefect table artifact of its own: a run that fails later still shows it."""

from typing import Any

from prefect.artifacts import create_table_artifact
from prefect.context import TaskRunContext


def record_counts(stage: str, rows: list[dict[str, Any]], description: str) -> None:
    """Attach a table of counts (one dict per row) to the current task run, keyed `<stage>-counts`.

    Outside a task run (a stage function called directly, in a test or a benchmark) there is
    nothing to attach it to, and nothing happens.
    """
    if TaskRunContext.get() is None:
        return
    create_table_artifact(table=rows, key=f"{stage}-counts", description=description)
