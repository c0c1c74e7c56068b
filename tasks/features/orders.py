"""features.orders, the orders netted as of a day, kept up to date from one day to the next.

A day's orders differ from the day before's only in the orders a transaction of the new day, of a newly
staged file (late rows) or of a record whose customer changed (merges) belongs to: those are recomputed
from all their rows before the cutoff (sql/features/orders.sql over _order_rows) and the others kept.
What the kept orders were built with is stored beside them: the identity map (features.order_identity),
the staged files (features.order_files, compared by sql/ops/file_changes.sql as for the activity roll-up)
and the day, settings and code version (features.order_state). The orders are rebuilt from all
transactions instead when asked (rebuild), for a day before the stored one, when a staged file changed
(re-read, re-staged, rows replaced or erased), or when what maps a transaction to its record or amount
changed (the core.transactions view, the lookups' config, the currency, the amounts' scale, the time zone).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from tasks.shared.warehouse import Warehouse

# Bump when what features.orders holds changes (sql/features/orders.sql): older state is rebuilt.
ORDERS_VERSION = 1

FILES = {"held": "features.order_files", "current": "_order_files_now"}
# The identity map features.orders was built with (sql/features/identity_snapshot.sql).
HELD = {"held": "features.order_identity"}
TEMP_TABLES = (
    "_order_files_now",
    "_order_file_changes",
    "_order_identity_moved",
    "_orders_touched",
    "_order_rows",
    "_orders_recomputed",
)


@dataclass(frozen=True)
class OrdersRefresh:
    """What a refresh of features.orders did."""

    mode: str  # rebuilt | incremental | unchanged
    reason: str  # why it was rebuilt (empty otherwise)
    orders: int  # orders recomputed (all of them when rebuilt)
    rows: int  # rows of features.orders afterwards


def orders_fingerprint(
    wh: Warehouse, params: dict[str, Any], fragments: dict[str, str], record_config: str
) -> str:
    """What maps the staged transactions to orders besides the day: the core.transactions view's text, the
    lookups' config (record_config), the currency parameters and the amounts' type."""
    view = wh.scalar(
        "select sql from duckdb_views() where schema_name = 'core' and view_name = 'transactions'"
    )
    currency = {k: params[k] for k in ("base_currency", "rate_currencies", "rate_values")}
    payload = json.dumps([view, record_config, currency, fragments], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def rebuild_reason(wh: Warehouse, settings: str, as_of: date, rebuild: bool) -> str:
    """Why features.orders must be rebuilt from all transactions (empty: it can be brought up to date)."""
    if rebuild:
        return "a rebuild was requested"
    for table in (
        "features.orders",
        "features.order_files",
        "features.order_identity",
        "features.order_state",
    ):
        if not wh.table_exists(table):
            return f"no {table} yet"
    state = wh.dicts("select version, timezone, settings, as_of from features.order_state")
    if len(state) != 1:
        return "features.order_state does not hold one row"
    if state[0]["version"] != ORDERS_VERSION:
        return f"the orders were written by version {state[0]['version']}, this is {ORDERS_VERSION}"
    if state[0]["timezone"] != wh.timezone:
        return f"the time zone changed from {state[0]['timezone']} to {wh.timezone}"
    if state[0]["settings"] != settings:
        return (
            "what maps a transaction to its order changed (the core.transactions view, lookups or currency)"
        )
    if state[0]["as_of"] > as_of:
        return f"the kept orders are netted as of {state[0]['as_of']}, after {as_of}"
    wh.build("_order_file_changes", "ops/file_changes", temp=True, identifiers=FILES)
    changed = wh.scalar("select count(*) from _order_file_changes where change = 'changed'")
    if changed:
        return f"{changed} files of the orders were re-read, re-staged, or had rows replaced or erased"
    return ""


def refresh_orders(
    wh: Warehouse,
    params: dict[str, Any],
    fragments: dict[str, str],
    record_config: str = "",
    rebuild: bool = False,
) -> OrdersRefresh:
    """Bring features.orders to params' as_of (and cutoff): recompute the orders that changed, or all.

    params and fragments: sql/features/orders.sql's. record_config: tasks.features.activity.record_settings
    of the pipeline config (a caller that cannot give it passes the same value every time and answers for
    config changes itself: pass rebuild).
    """
    as_of, cutoff = params["as_of"], params["cutoff"]
    settings = orders_fingerprint(wh, params, fragments, record_config)
    with wh.transaction():
        wh.build(
            "_order_files_now",
            "features/staged_files_now",
            temp=True,
            identifiers={"staged": "staging.transactions", "rows": "transactions"},
        )
        reason = rebuild_reason(wh, settings, as_of, rebuild)
        if reason:
            wh.build(
                "features.orders",
                "features/orders",
                params,
                identifiers={"transactions": "core.transactions"},
                fragments=fragments,
            )
            mode, recomputed = "rebuilt", wh.count("features.orders")
        else:
            previous = wh.scalar("select cutoff from features.order_state")
            wh.build("_order_identity_moved", "features/identity_moved", temp=True, identifiers=HELD)
            recomputed = wh.build(
                "_orders_touched",
                "features/orders_touched",
                {"cutoff": cutoff, "previous_cutoff": previous},
                temp=True,
            )
            if recomputed:
                wh.build("_order_rows", "features/order_rows", {"cutoff": cutoff}, temp=True)
                wh.build(
                    "_orders_recomputed",
                    "features/orders",
                    params,
                    temp=True,
                    identifiers={"transactions": "_order_rows"},
                    fragments=fragments,
                )
                wh.run("features/orders_forget")
                wh.append_rows("features.orders", "_orders_recomputed")
            mode = "incremental" if recomputed else "unchanged"
            if wh.count("_order_identity_moved"):
                wh.run(
                    "features/identity_snapshot_update",
                    identifiers=HELD | {"moved": "_order_identity_moved"},
                )
        if reason:
            wh.build(HELD["held"], "features/identity_snapshot")
        wh.build(FILES["held"], "ops/file_watermark", identifiers=FILES)
        state = {"version": ORDERS_VERSION, "timezone": wh.timezone, "settings": settings, "as_of": as_of}
        wh.build("features.order_state", "features/order_state", state | {"cutoff": cutoff})
        for table in TEMP_TABLES:
            wh.execute(f"drop table if exists {table}")
    return OrdersRefresh(mode, reason, recomputed, wh.count("features.orders"))
