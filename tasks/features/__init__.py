"""Features stage: orders and per-customer behaviour as of one day, in DuckDB SQL."""

from datetime import date

from prefect import get_run_logger, task

from tasks.shared.artifacts import record_counts
from tasks.shared.config import FeatureConfig, PipelineConfig
from tasks.shared.errors import STAGE_TASK_OPTIONS
from tasks.shared.warehouse import Warehouse


def build_features(wh: Warehouse, config: FeatureConfig, as_of: date) -> dict[str, int]:
    """Build features.orders and features.customer_features as of a day; return their row counts."""
    cutoff = wh.cutoff(as_of)  # data at or after the end of as_of is not used
    params = {"as_of": as_of, "cutoff": cutoff, "session_types": config.session_event_types}
    with wh.transaction():
        orders = wh.build("features.orders", "features/orders", params)
        customers = wh.build("features.customer_features", "features/customer_features", params)
    return {"orders": orders, "customers": customers}


@task(name="features", **STAGE_TASK_OPTIONS)
def features(config: PipelineConfig, as_of: date) -> dict[str, int]:
    """Build the as_of's order and customer features."""
    with Warehouse.open(config) as wh:
        counts = build_features(wh, config.features, as_of)
    record_counts(
        "features",
        [
            {"table": "features.orders", "rows": counts["orders"]},
            {"table": "features.customer_features", "rows": counts["customers"]},
        ],
        f"features as of {as_of}: rows of each table built",
    )
    get_run_logger().info(
        "features as of %s: %d orders, %d customers", as_of, counts["orders"], counts["customers"]
    )
    return counts
