"""Two sources of one kind over the same files (tasks.extract.overlap): a run and `segments check` stop."""

from pathlib import Path

import pytest

from tasks.extract import extract_all
from tasks.extract.preflight import preflight
from tasks.shared.config import load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.sources import PAY_CSV, write_config
from tests.unit.extract.test_excel import source as shop_source
from tests.unit.extract.test_excel import workbook
from tests.unit.extract.test_preflight import RETAIL_HEADER, RETAIL_ROWS, SHOP

AGAIN = {**PAY_CSV, "name": "pay_again"}
MESSAGE = (
    "sources 'pay' and 'pay_again', both transactions, read the same 4 files (pay/p1.csv, pay/p2.csv, "
    "pay/p3.csv and 1 more): each row would be staged twice and count twice in every customer's features. "
    "Point one source's path elsewhere, or give each a `where` that keeps its own rows"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "pay").mkdir()
    for day in range(1, 5):
        (tmp_path / "pay" / f"p{day}.csv").write_text(
            f"txn_id,member_id,amount,ts\nT{day},M1,10.00,2026-01-0{day} 10:00:00\n", encoding="utf-8"
        )
    return tmp_path


def test_two_payment_sources_over_the_same_files_stop_the_run_and_the_check(folder: Path) -> None:
    config = load_config(write_config(folder, [PAY_CSV, AGAIN]))
    assert [problem.message for problem in preflight(config)] == [MESSAGE]
    with Warehouse.open(config) as wh:
        with pytest.raises(DataError) as caught:
            extract_all(wh, config, "run-1")
        assert str(caught.value) == MESSAGE
        assert wh.rows("select * from information_schema.tables where table_schema = 'staging'") == []


def test_a_link_to_a_file_another_source_reads_is_the_same_file(folder: Path) -> None:
    (folder / "mirror").mkdir()
    (folder / "mirror" / "p1.csv").symlink_to(folder / "pay" / "p1.csv")
    config = load_config(write_config(folder, [PAY_CSV, {**AGAIN, "path": "mirror/*.csv"}]))
    assert [problem.message for problem in preflight(config)] == [
        "sources 'pay' and 'pay_again', both transactions, read the same 1 file (pay/p1.csv): each row would be "
        "staged twice and count twice in every customer's features. Point one source's path elsewhere, or give "
        "each a `where` that keeps its own rows"
    ]


def test_sources_of_one_kind_that_split_the_rows_by_where_and_of_two_kinds_may_share_files(
    folder: Path,
) -> None:
    split = [{**PAY_CSV, "where": "member_id = 'M1'"}, {**AGAIN, "where": "member_id <> 'M1'"}]
    (folder / "data").mkdir()
    (folder / "data" / "online_retail_2010.csv").write_text(RETAIL_HEADER + RETAIL_ROWS, encoding="utf-8")
    buyers = {
        "name": "buyers",
        "kind": "customers",
        "format": "csv",
        "path": SHOP["path"],
        "where": "CustomerID is not null",
        "columns": {"source_id": "CustomerID", "country": "Country"},
    }
    config = load_config(write_config(folder, [*split, SHOP, buyers]))
    # (warnings remain: pay_again's where leaves out every row of each file)
    assert [problem for problem in preflight(config) if not problem.warning] == []
    with Warehouse.open(config) as wh:
        loads = extract_all(wh, config, "run-1")
    assert [(load.source, load.rows_staged) for load in loads] == [
        ("pay", 4),
        ("pay_again", 0),
        ("shop", 5),
        ("buyers", 3),  # a buyer's repeated rows are one record
    ]


def test_workbook_sources_of_one_kind_may_read_different_sheets_of_one_file(tmp_path: Path) -> None:
    """UCI Online Retail II: one workbook, a sheet per year; a source per sheet reads other rows."""
    rows = [["Customer ID", "Name"], ["C1", "Ann"]]
    workbook(tmp_path / "retail.xlsx", {"2009-2010": rows, "2010-2011": rows})
    first = {**shop_source(sheet_name="2009-2010"), "name": "year_one"}
    second = {**shop_source(sheet_id=2), "name": "year_two"}
    config = load_config(write_config(tmp_path, [first, second]))
    assert [problem.message for problem in preflight(config) if not problem.warning] == []
    both = {**shop_source(sheet_name="*"), "name": "every_year"}
    config = load_config(write_config(tmp_path, [first, both]))
    assert [problem.message for problem in preflight(config) if not problem.warning] == [
        "sources 'year_one' and 'every_year', both customers, read the same 1 file (retail.xlsx): each row would be "
        "staged twice and count twice in every customer's features. Point one source's path elsewhere, or give "
        "each a `where` that keeps its own rows"
    ]
