"""Features stage: orders and per-customer behaviour as of one day, in DuckDB SQL.

Behaviour is read from a daily roll-up of the events per customer record (features.daily_activity,
tasks/features/activity.py), kept up to date incrementally across runs, through each record's and each
customer's activity as of the day (features.record_activity, features.customer_activity,
tasks/features/customer_activity.py: the records and customers whose rows can differ recomputed); the
orders as of the day are the day before's with the orders the new transactions and identity changes touch
recomputed (tasks/features/orders.py).
"""

import logging
import time
from dataclasses import asdict
from datetime import date
from typing import Any

import duckdb
from prefect import get_run_logger, task

from tasks.features.activity import record_settings, refresh_activity
from tasks.features.customer_activity import CUSTOMERS, HALF_LIFE_DAYS, STATE, refresh_customer_activity
from tasks.features.orders import refresh_orders
from tasks.shared import shards as sharding
from tasks.shared.artifacts import record_counts
from tasks.shared.config import FeatureConfig, PipelineConfig
from tasks.shared.config.pipeline import CurrencyConfig
from tasks.shared.contracts import DEFAULT_AMOUNT_SCALE
from tasks.shared.errors import STAGE_TASK_OPTIONS
from tasks.shared.warehouse import Warehouse, quote_identifier

# The customer features' shards' work tables (read back by sql/ops/rows_from_shards.sql).
PARTS = sharding.WorkTables("features", "customer_features_parts_")
# Activity older than this before as_of, and none since: a historical dataset run as of yesterday (stale_data)
STALE_DAYS = 365


def amount_scale(wh: Warehouse) -> int:
    """The decimals of the transactions' amounts (core.transactions.amount), which monetary keeps."""
    scale = wh.scalar(
        "select numeric_scale from information_schema.columns "
        "where table_schema = 'core' and table_name = 'transactions' and column_name = 'amount'"
    )
    return DEFAULT_AMOUNT_SCALE if scale is None else int(scale)


def currency_params(currency: CurrencyConfig) -> dict[str, Any]:
    """The parameters of sql/features/orders.sql that convert amounts into the base currency."""
    return {
        "base_currency": currency.base,
        "rate_currencies": list(currency.rates),
        "rate_values": [str(rate) for rate in currency.rates.values()],
    }


def feature_params(
    wh: Warehouse, config: FeatureConfig, as_of: date, currency: CurrencyConfig | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The bound parameters and the fragments (the amounts' decimals) of the features stage's models."""
    params = {
        "as_of": as_of,
        "cutoff": wh.cutoff(as_of),  # data at or after the end of as_of is not used
        "session_types": config.session_event_types,
        **currency_params(currency or CurrencyConfig()),
    }
    scale = amount_scale(wh)
    return params, {"scale": str(scale), "amount_type": f"decimal(38,{scale})"}


def customer_features_into(wh: Warehouse, table: str, params: dict[str, Any], shard: dict[str, str]) -> int:
    """The customer features of the customers shard keeps (tasks/shared/shards.py), replacing table (a
    shard of all, or none: its empty shape) or, for a shard of some, added to it; how many rows."""
    activity = {"activity": CUSTOMERS}
    wh.ensure("core/fact_observations")  # dedupe keeps it; made empty where no dedupe ran (a model test)
    params = params | {"undated": undated(wh)}
    with wh.transaction():
        if shard in (sharding.ALL, sharding.NONE):
            return wh.build(
                table, "features/customer_features", params, identifiers=activity, fragments=shard
            )
        return wh.insert(table, "features/customer_features", params, identifiers=activity, fragments=shard)


def undated(wh: Warehouse) -> bool:
    """Whether a customer's records carry no time (first_seen null): only then does customer_features look for their
    first facts, a join of every fact observation to the identity map (0.7–1 s at 1M customers, for none)."""
    return wh.scalar("select count(*) > 0 from core.customers where first_seen is null")


def parts_table() -> str:
    """A new name for a run's shards' work table."""
    return PARTS.new()


def customer_features_shard(
    wh: Warehouse, pipeline: PipelineConfig, as_of: date, shard: int, shards: int, work_table: str
) -> int:
    """Shard `shard` of `shards` of the as_of's customer features, added to the work table the features
    stage made for them (a shard's flow run: flows/stage_shard.py); how many rows."""
    PARTS.check(work_table)
    params, _ = feature_params(wh, pipeline.features, as_of, pipeline.currency)

    def rows() -> int:
        held = wh.scalar(f"select max(as_of) from {STATE}") if wh.table_exists(STATE) else None
        # the stage brings the customers' activity to its day before the shards run (a shard whose work table
        # is gone adds nothing: sharding.added)
        if held != as_of and wh.table_exists(work_table):
            raise ValueError(
                f"{CUSTOMERS} holds {held}, not {as_of}: the features stage of {as_of} ran not first"
            )
        return customer_features_into(wh, work_table, params, sharding.fragments(shard, shards))

    return sharding.added(wh, work_table, rows)


def drop_stale_parts(wh: Warehouse) -> list[str]:
    """Drop the customer features' work tables runs left (tasks/shared/shards.py drop_stale); their names."""
    return PARTS.drop_stale(wh)


def customer_features_from_shards(wh: Warehouse, parts: str, ran: sharding.ShardRuns) -> int:
    """features.customer_features from the shards' work table, which is then dropped; its rows, one per
    customer (checked). Done again when it conflicts with a late insert into the work table (a shard's
    run given up on that ran after all: the same rows, kept once)."""
    attempt = 1
    while True:
        try:
            with wh.transaction():
                customers = wh.build(
                    "features.customer_features",
                    "ops/rows_from_shards",
                    identifiers={"parts": parts},
                )
                wh.execute(f"drop table {quote_identifier(parts)}")
                expected = wh.count("core.customers")
                if customers != expected:  # raised inside: the day before's customer features stay
                    raise RuntimeError(
                        f"features.customer_features from {len(ran.ran)} shards has {customers} rows, not one "
                        f"per customer ({expected}): {ran.ran}"
                    )
            return customers
        except duckdb.TransactionException:
            if attempt == 3:
                raise
            time.sleep(attempt)
            attempt += 1


def build_features(
    wh: Warehouse,
    config: FeatureConfig,
    as_of: date,
    currency: CurrencyConfig | None = None,
    *,
    rebuild: bool = False,
    record_config: str = "",
    half_life_days: float = HALF_LIFE_DAYS,
    shard_plan: sharding.ShardPlan | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> dict[str, Any]:
    """Build features.orders and features.customer_features as of a day; return their row counts.

    The activity roll-up features.daily_activity is first brought up to date with the staged events
    (rebuild: from scratch, as on a full refresh; record_config: tasks.features.activity.record_settings of
    the pipeline config, a change of which rebuilds it, and features.orders). currency: the base currency
    and the rates into it (default: CNY, no rates). Also returned: `unconverted`, the transactions in a
    currency without a rate (left out of monetary), by currency, `activity`, what the roll-up's refresh
    did, `customer_activity`, what the records' and customers' activity refresh did, and `orders_refresh`,
    what the orders' refresh did. half_life_days: act.recommendations.half_life_days, which the records'
    weighed plays (features.record_activity's session_weight, what the act stage reads) decay with.

    shard_plan: the customer features in shards (a lake's `shards`; tasks/shared/shards.py), run after the
    roll-ups and features.orders are committed (the shards' processes read them), each adding its rows to
    the plan's work table (made here, after dropping those of killed runs), which then becomes
    features.customer_features. The stage is then two transactions: between them a reader (or a failure)
    sees today's orders beside the day before's customer features, which the next stage never reads (it
    runs after this one). `shards` in the result: how each shard ran.
    """
    params, fragments = feature_params(wh, config, as_of, currency)
    if shard_plan is not None:
        drop_stale_parts(wh)
    with wh.transaction():
        activity = refresh_activity(wh, record_config, rebuild)
        session_types = config.session_event_types
        customer_activity = refresh_customer_activity(wh, as_of, session_types, activity, half_life_days)
        orders_refresh = refresh_orders(wh, params, fragments, record_config, rebuild)
        if shard_plan is None:
            customers = customer_features_into(wh, "features.customer_features", params, sharding.ALL)
        else:
            parts = shard_plan.work_table
            customer_features_into(wh, parts, params, sharding.NONE)  # the shards' empty work table
    ran = None
    if shard_plan is not None:
        n = shard_plan.shards
        ran = sharding.run_shards(
            shard_plan,
            lambda k: customer_features_into(wh, parts, params, sharding.fragments(k, n)),
            logger or logging.getLogger(__name__),
        )
        customers = customer_features_from_shards(wh, parts, ran)
    unconverted = dict(
        wh.rows(
            "select coalesce(currency, 'several'), sum(unconverted) from features.orders "
            "where unconverted > 0 group by 1 order by 1"
        )
    )
    newest = wh.scalar("select max(last_active_date) from features.customer_features")
    return {
        "orders": orders_refresh.rows,
        "customers": customers,
        "newest_activity": newest,
        "unconverted": unconverted,
        "activity": asdict(activity),
        "customer_activity": asdict(customer_activity),
        "orders_refresh": asdict(orders_refresh),
        **({"shards": ran.ran} if ran else {}),
    }


def stale_data(newest: date | None, as_of: date) -> str | None:
    """A warning when the newest activity on or before as_of is more than STALE_DAYS older: a historical dataset
    run without --as-of is measured from yesterday (recency of decades, quintiles that make its last buyers
    Champions, a churn model with nobody active). None when it is recent or there is none."""
    if newest is None or (as_of - newest).days <= STALE_DAYS:
        return None
    return (
        f"the newest purchase, session or event on or before {as_of} is from {newest}, {(as_of - newest).days:,} "
        f"days earlier: every recency, window and score is measured from {as_of}; for data of the past, run "
        f"as of its last day (segments run --as-of {newest}, or the flow parameter as_of)"
    )


def features_day(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date,
    *,
    rebuild: bool = False,
    shard_plan: sharding.ShardPlan | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> dict[str, Any]:
    """build_features with what the pipeline config adds (the currency, what maps an event to its record):
    the features task's call, and that of a day run without Prefect (flows/direct.py)."""
    return build_features(
        wh,
        config.features,
        as_of,
        config.currency,
        rebuild=rebuild,
        record_config=record_settings(config),
        half_life_days=config.act.recommendations.half_life_days,
        shard_plan=shard_plan,
        logger=logger,
    )


@task(name="features", **STAGE_TASK_OPTIONS)
def features(config: PipelineConfig, as_of: date, rebuild: bool = False) -> dict[str, Any]:
    """Build the as_of's order and customer features (rebuild: the activity roll-up from scratch)."""
    logger = get_run_logger()
    plan = sharding.plan(config, "features", as_of, parts_table())
    with Warehouse.open(config) as wh:
        counts = features_day(wh, config, as_of, rebuild=rebuild, shard_plan=plan, logger=logger)
    left_out = ", ".join(f"{n} in {code}" for code, n in counts["unconverted"].items())
    note = f"; left out of monetary, no rate to {config.currency.base}: {left_out}" if left_out else ""
    activity = counts["activity"]
    rolled = (
        f"; activity roll-up features.daily_activity {activity['mode']}"
        + (f" ({activity['reason']})" if activity["reason"] else "")
        + f": {activity['new_files']} new files, {activity['days']} days recomputed, {activity['rows']} rows"
    )
    summed = counts["customer_activity"]
    rolled += (
        "; each record's and customer's activity (features.record_activity, features.customer_activity) "
        + summed["mode"]
        + (f" ({summed['reason']})" if summed["reason"] else "")
        + f": {summed['records']} records and {summed['customers']} customers recomputed, {summed['rows']} customers"
    )
    orders = counts["orders_refresh"]
    rolled += (
        f"; features.orders {orders['mode']}"
        + (f" ({orders['reason']})" if orders["reason"] else "")
        + f": {orders['orders']} orders recomputed"
    )
    record_counts(
        "features",
        [
            {"table": "features.orders", "rows": counts["orders"]},
            {"table": "features.customer_features", "rows": counts["customers"]},
            {"table": CUSTOMERS, "rows": counts["customer_activity"]["rows"]},
        ],
        f"features as of {as_of}: rows of each table built{rolled}{note}",
    )
    logger.info("features as of %s: %d orders, %d customers", as_of, counts["orders"], counts["customers"])
    for shard, how in sorted(counts.get("shards", {}).items()):
        logger.info("customer features shard %d of %d: %s", shard + 1, len(counts["shards"]), how)
    logger.info("%s", rolled.removeprefix("; "))
    if stale := stale_data(counts["newest_activity"], as_of):
        logger.warning("%s", stale)
    if left_out:
        logger.warning(
            "transactions in a currency without a rate to %s, left out of monetary: %s "
            "(add currency.rates to convert them)",
            config.currency.base,
            left_out,
        )
    return counts
