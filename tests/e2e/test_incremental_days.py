"""Incremental days equal full refreshes, through the real flow.

Two warehouses see the same files day after day: the sample, then each day's new files
(tests/daily_changes.py: new sessions and payments, late rows, a refund of an old order, a
re-registration, a changed CRM record, a record bridging two customers, someone new). One runs the
daily refresh as users do (incremental: only new files are read, state kept from day to day); the
other reloads every source and rebuilds its state each day (`full_refresh=["all"]`). After every day
their identity clusters, golden records, features, predictions, segments and published rows are equal.
Models refit on the same schedule in both (the stored fits serve the days between), so equal also
means: a model served from storage scores as the same model would on rebuilt inputs.
"""

from datetime import date, timedelta
from pathlib import Path

import pytest

from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END
from tests.daily_changes import write_day

pytestmark = pytest.mark.e2e

DAYS = [SAMPLE_END + timedelta(days=n) for n in range(1, 4)]
# Columns that name the run or the moment it ran: they differ between any two runs.
VOLATILE = {"run_id", "published_at", "created_at", "fitted_at", "loaded_at", "_run_id", "_loaded_at"}
# (table, the day's rows only): what a day's refresh produces, compared between the two warehouses.
TABLES = (
    ("core.identity_map", False),
    ("core.customers", False),
    ("features.customer_features", False),
    ("features.orders", False),
    ("predict.customer_predictions", False),
    ("segments.customer_segments", False),
    ("segments.customer_tags", False),
    ("published.customer_segments", True),
    ("published.customer_tags", True),
    ("published.segment_changes", True),
    ("published.audience_members", True),
    ("published.outreach", True),
)


def snapshot(config_path: Path, as_of: date) -> dict[str, list[tuple]]:
    """Every table of TABLES, sorted, without the volatile columns (the day's rows of published tables)."""
    config = load_config(config_path)
    tables = {}
    with Warehouse.open(config, read_only=True) as wh:
        for table, by_day in TABLES:
            if not wh.table_exists(table):
                tables[table] = []
                continue
            columns = [c for c in wh.columns(table) if c not in VOLATILE]
            listed = ", ".join(f'"{c}"' for c in columns)
            where = " where as_of = ?" if by_day else ""
            tables[table] = wh.rows(
                f"select {listed} from {table}{where} order by all", [as_of] if by_day else None
            )
    return tables


def differences(incremental: dict[str, list[tuple]], full: dict[str, list[tuple]]) -> dict[str, str]:
    """Per table that differs: row counts and the first differing rows."""
    found = {}
    for table, rows in incremental.items():
        other = full[table]
        if rows != other:
            only_incremental = sorted(set(rows) - set(other))[:3]
            only_full = sorted(set(other) - set(rows))[:3]
            found[table] = (
                f"{len(rows)} vs {len(other)} rows; incremental only {only_incremental}; full only {only_full}"
            )
    return found


def test_incremental_days_equal_full_refreshes(prefect_server: None, sample_copy: Path, make_config) -> None:
    incremental_config = make_config(sample_copy)
    full_config = make_config(sample_copy)

    daily_refresh(as_of=SAMPLE_END, config=str(incremental_config))
    daily_refresh(as_of=SAMPLE_END, config=str(full_config))
    first = snapshot(incremental_config, SAMPLE_END)
    assert [table for table, rows in first.items() if not rows] == []  # every table compared has rows
    assert differences(first, snapshot(full_config, SAMPLE_END)) == {}

    for index, day in enumerate(DAYS, start=1):
        written = write_day(sample_copy, day, index)
        assert written == {"game": 40, "payments": 26, "crm": 4}
        incremental = daily_refresh(as_of=day, config=str(incremental_config))
        full = daily_refresh(as_of=day, config=str(full_config), full_refresh=["all"])

        # the incremental day read the new files only; the full one every file again
        read = {load["source"]: load["files_loaded"] for load in incremental["extract"]}
        assert read == {"crm": 1, "game": 1, "payments": 1, "social": 0, "survey": 0}
        assert sum(load["files_loaded"] for load in full["extract"]) > sum(read.values())
        assert differences(snapshot(incremental_config, day), snapshot(full_config, day)) == {}, day
        # the incremental day kept its state; the full one rebuilt it
        assert (incremental["dedupe"]["matcher_mode"], full["dedupe"]["matcher_mode"]) == (
            "incremental",
            "full",
        )
        assert incremental["dedupe"]["changed_records"] > 0
        assert (incremental["features"]["activity"]["mode"], full["features"]["activity"]["mode"]) == (
            "incremental",
            "rebuilt",
        ), day
        # the day's changes arrived: the bridge merged two customers, the new member is a customer
        config = load_config(incremental_config)
        with Warehouse.open(config, read_only=True) as wh:
            stamp = day.strftime("%Y%m%d")
            assert wh.scalar(
                "select cluster_size >= 3 from core.identity_map where source = 'crm' and source_id = ?",
                [f"B{stamp}"],
            )
            assert (
                wh.scalar(
                    "select count(*) from core.identity_map where source = 'crm' and source_id = ?",
                    [f"N{stamp}"],
                )
                == 1
            )
