"""A source the warehouse holds that the config no longer names (removed, or renamed) stops the run and the check
until a full refresh of its old name removes its rows: before, its rows went on counting, and a renamed source's
files were loaded twice."""

import logging
from pathlib import Path

import pytest

from tasks.extract.preflight import preflight
from tasks.shared.config import load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.sources import extract_once, write_config

CRM = {
    "name": "crm",
    "kind": "customers",
    "format": "csv",
    "path": "crm/*.csv",
    "columns": {"source_id": "id", "full_name": "name"},
}
PAYMENTS = {
    "name": "payments",
    "kind": "transactions",
    "format": "csv",
    "path": "pay/*.csv",
    "customer_source": "crm",
    "columns": {"txn_id": "txn", "customer_ref": "member", "ts": "paid_at", "amount": "amount"},
}
STOPPED = (
    "the warehouse holds the rows of source 'payments' (2 loaded files), which the config no longer names: they "
    "would go on counting in every customer's features, and a source renamed from it reads its files again (counted "
    "twice). Run once with --full-refresh payments to remove its rows (the flow's full_refresh parameter), or put "
    "the source back in the config"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two members and three payments in two files, loaded once."""
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "members.csv").write_text("id,name\nM1,张三\nM2,李四\n", encoding="utf-8")
    (tmp_path / "pay").mkdir()
    (tmp_path / "pay" / "a.csv").write_text(
        "txn,member,paid_at,amount\nT1,M1,2026-01-01 10:00,5.00\nT2,M2,2026-01-02 10:00,7.50\n"
    )
    (tmp_path / "pay" / "b.csv").write_text("txn,member,paid_at,amount\nT3,M1,2026-01-03 10:00,1.25\n")
    extract_once(write_config(tmp_path, [CRM, PAYMENTS]), "run-1")
    return tmp_path


def staged(config: Path) -> list[tuple]:
    """Each source's staged transactions, its raw tables and the sources in the load state."""
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return [
            wh.rows(
                "select source, count(*), sum(amount) from staging.transactions group by all order by all"
            ),
            wh.rows(
                "select table_name from information_schema.tables where table_schema = 'raw' order by all"
            ),
            wh.rows("select source, count(*) from audit.load_state group by all order by all"),
        ]


def test_a_source_removed_from_the_config_stops_until_its_full_refresh_removes_its_rows(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(folder, [CRM])
    assert [str(problem) for problem in preflight(load_config(config))] == [f"sources.payments: {STOPPED}"]
    with pytest.raises(DataError) as raised:
        extract_once(config, "run-2")
    assert str(raised.value) == STOPPED
    assert preflight(load_config(config), full_refresh=["payments"]) == []
    with caplog.at_level(logging.WARNING):
        extract_once(config, "run-3", full_refresh=["payments"])
    assert (
        "source payments: not in the config, and named in --full-refresh: its rows are removed (3 rows staged)"
        in (caplog.text)
    )
    assert staged(config) == [[], [("crm",)], [("crm", 1)]]
    assert preflight(load_config(config)) == []
    extract_once(config, "run-4")  # nothing to stop at any more


def test_a_renamed_source_stops_before_its_files_are_loaded_twice(folder: Path) -> None:
    config = write_config(folder, [CRM, {**PAYMENTS, "name": "pay"}])
    with pytest.raises(DataError, match="source 'payments'"):
        extract_once(config, "run-2")
    assert staged(config)[0] == [("payments", 3, 13.75)]  # the run stopped: nothing loaded twice
    extract_once(config, "run-3", full_refresh=["all"])  # every source read again: the old name's rows go too
    assert staged(config) == [[("pay", 3, 13.75)], [("crm",), ("pay",)], [("crm", 1), ("pay", 2)]]
