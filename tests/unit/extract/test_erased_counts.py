"""The counts of a load that read rows of people erased earlier: those rows are erased, not staged, quarantined
or copies, in the load, audit.load_audit per file and audit.extract_log."""

import logging
from collections.abc import Iterator
from dataclasses import asdict

import pytest

from tasks.extract import SourceLoad
from tasks.extract.load_state import create_tables, record_erased, record_load
from tasks.shared.warehouse import Warehouse

LOAD = SourceLoad("crm", "customers", 3, 2, 100, 90, 6, 4, "loaded", rows_unattributed=0)


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    with Warehouse(":memory:") as warehouse:
        create_tables(warehouse)
        for file, read, staged, quarantined, copies in [("a.csv", 60, 55, 3, 2), ("b.csv", 40, 35, 3, 2)]:
            warehouse.execute(
                "insert into audit.load_audit values ('r2', 'crm', ?, 'h', ?, ?, ?, ?, 0.1, now(), 0, 0, 0)",
                [file, read, staged, quarantined, copies],
            )
        record_load(warehouse, "r2", LOAD)
        yield warehouse


def counts(staged: int, quarantined: int, duplicates: int) -> dict[str, int]:
    return {
        "staged": staged,
        "unattributed": 0,
        "quarantined": quarantined,
        "duplicates": duplicates,
        "filtered": 0,
    }


def test_erased_rows_move_from_where_the_load_put_them_to_erased(wh: Warehouse) -> None:
    erased = {("crm", "a.csv"): counts(2, 1, 1), ("pay", "a.csv"): counts(5, 0, 0)}  # pay: another source's
    load = record_erased(wh, "r2", LOAD, erased)
    assert asdict(load) == asdict(LOAD) | {
        "rows_staged": 88,
        "rows_quarantined": 5,
        "duplicates_dropped": 3,
        "rows_erased": 4,
    }
    assert wh.rows(
        "select file, rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_erased "
        "from audit.load_audit order by file"
    ) == [("a.csv", 60, 53, 2, 1, 4), ("b.csv", 40, 35, 3, 2, 0)]
    assert wh.rows(
        "select rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_erased from audit.extract_log"
    ) == [(100, 88, 5, 3, 4)]


def test_rows_of_a_file_this_run_did_not_read_count_in_no_load(
    wh: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        load = record_erased(wh, "r2", LOAD, {("crm", "old.csv"): counts(1, 0, 0)})
    assert load == LOAD
    assert wh.rows("select sum(rows_staged), sum(rows_erased) from audit.load_audit") == [(90, 0)]
    assert caplog.messages == [
        "source crm: rows of erased people dropped from old.csv, which this run did not read: counted in no load"
    ]
