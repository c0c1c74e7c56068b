"""Excel workbooks with more than one sheet: the first sheet by default (the others that hold rows named in a
warning), a sheet by name or number, or every sheet (`sheet_name: '*'`) with the sheet in raw."""

import re
from pathlib import Path

import pytest
import xlsxwriter

from tasks.extract.preflight import preflight
from tasks.shared.config import ConfigError, load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.sources import extract_once, write_config

HEADER = ["Customer ID", "Name"]


def workbook(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """An .xlsx file with the sheets given (name -> rows, the first row the header; no rows: a blank sheet)."""
    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for number, row in enumerate(rows):
            sheet.write_row(number, 0, row)
    book.close()
    return path


def source(**options: object) -> dict:
    return {
        "name": "shop",
        "kind": "customers",
        "format": "xlsx",
        "path": "*.xlsx",
        "options": options,
        "columns": {"source_id": '"Customer ID"', "full_name": "Name"},
    }


@pytest.fixture
def retail(tmp_path: Path) -> Path:
    """A workbook split by year, as the UCI Online Retail II export is, with a blank third sheet."""
    return workbook(
        tmp_path / "retail.xlsx",
        {
            "Year 2009-2010": [HEADER, ["13085", "Ann"], ["13078", "Bo"]],
            "Year 2010-2011": [HEADER, ["17850", "Cy"]],
            "notes": [],
        },
    )


def staged(config: Path) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select _file, _row, source_id, full_name from staging.customers order by _row")


def test_the_first_sheet_by_default_and_a_warning_names_the_sheets_left_unread(
    retail: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(retail.parent, [source()])
    with caplog.at_level("WARNING"):
        assert extract_once(config, "run-1")[0].rows_staged == 2
    assert staged(config) == [("retail.xlsx", 1, "13085", "Ann"), ("retail.xlsx", 2, "13078", "Bo")]
    assert (
        "source shop: file retail.xlsx: sheet 'Year 2010-2011' (1 row) not read (the source reads the first "
        "sheet); set the reader option sheet_name: '*' to read every sheet (with the same columns), or add a "
        "source per sheet"
    ) in caplog.text
    assert "notes" not in caplog.text  # a blank sheet holds nothing left out


@pytest.mark.parametrize("option", [{"sheet_name": "Year 2010-2011"}, {"sheet_id": 2}])
def test_a_sheet_by_name_or_number(retail: Path, caplog: pytest.LogCaptureFixture, option: dict) -> None:
    config = write_config(retail.parent, [source(**option)])
    with caplog.at_level("WARNING"):
        extract_once(config, "run-1")
    assert staged(config) == [("retail.xlsx", 1, "17850", "Cy")]
    read = f"sheet {next(iter(option.values()))!r}" if "sheet_name" in option else "sheet 2"
    assert f"sheet 'Year 2009-2010' (2 rows) not read (the source reads {read})" in caplog.text


def test_every_sheet_into_one_table_with_the_sheet_in_raw(
    retail: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(retail.parent, [source(sheet_name="*")])
    with caplog.at_level("WARNING"):
        assert extract_once(config, "run-1")[0].rows_staged == 3
    assert "not read" not in caplog.text
    # rows numbered through the workbook, sheet after sheet: (file, row) is one row
    assert staged(config) == [
        ("retail.xlsx", 1, "13085", "Ann"),
        ("retail.xlsx", 2, "13078", "Bo"),
        ("retail.xlsx", 3, "17850", "Cy"),
    ]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows('select _row, _sheet, "Customer ID" from raw.shop order by _row') == [
            (1, "Year 2009-2010", "13085"),
            (2, "Year 2009-2010", "13078"),
            (3, "Year 2010-2011", "17850"),
        ]


def test_sheets_in_another_column_order_are_read_in_the_first_sheets_order(tmp_path: Path) -> None:
    workbook(
        tmp_path / "two.xlsx", {"a": [HEADER, ["1", "Ann"]], "b": [["Name", "Customer ID"], ["Bo", "2"]]}
    )
    config = write_config(tmp_path, [source(sheet_name="*")])
    extract_once(config, "run-1")
    assert staged(config) == [("two.xlsx", 1, "1", "Ann"), ("two.xlsx", 2, "2", "Bo")]


@pytest.mark.parametrize(
    ("sheets", "option", "message"),
    [
        (
            {"a": [HEADER, ["1", "Ann"]], "b": [["Customer ID", "Phone"], ["2", "13800138000"]]},
            {"sheet_name": "*"},
            "source 'shop': sheet 'b' of book.xlsx has the columns ['Customer ID', 'Phone'], sheet 'a' "
            "['Customer ID', 'Name']: sheets read together (sheet_name '*') need the same columns; make one "
            "source per sheet layout (sheet_name) instead",
        ),
        (
            {"a": [HEADER, ["1", "Ann"]]},
            {"sheet_name": "2010"},
            "source 'shop': book.xlsx has no sheet '2010' (its sheets: ['a'])",
        ),
        (
            {"a": [HEADER, ["1", "Ann"]]},
            {"sheet_id": 2},
            "source 'shop': book.xlsx has 1 sheet(s), no sheet 2 (its sheets: ['a'])",
        ),
        (
            {"a": [["Customer ID", "_sheet", "Name"], ["1", "x", "Ann"]]},
            {"sheet_name": "*"},
            "source 'shop': sheet 'a' of book.xlsx has a column named '_sheet', a name the reader gives each "
            "row's lineage (_file, _row, and _sheet when every sheet is read); rename the column in the workbook",
        ),
        (
            {"a": [["Customer ID", "_row", "Name"], ["1", "7", "Ann"]]},
            {},
            "source 'shop': sheet 'a' of book.xlsx has a column named '_row', a name the reader gives each row's "
            "lineage (_file, _row, and _sheet when every sheet is read); rename the column in the workbook",
        ),
        ({"a": [], "b": []}, {"sheet_name": "*"}, "source 'shop': every sheet of book.xlsx is blank"),
    ],
)
def test_sheets_that_cannot_be_read_as_asked_are_a_clear_error(
    tmp_path: Path, sheets: dict, option: dict, message: str
) -> None:
    workbook(tmp_path / "book.xlsx", sheets)
    config = write_config(tmp_path, [source(**option)])
    with pytest.raises(DataError, match=re.escape(message)):
        extract_once(config, "run-1")


def sheets_option(config: Path, option: str) -> None:
    """The config's reader options rewritten in place (a second write_config would make a new lake)."""
    text = config.read_text(encoding="utf-8")
    assert text.count("options: {}") == 1
    config.write_text(text.replace("options: {}", f"options: {option}"), encoding="utf-8")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (
            "{sheet_id: 0}",
            "options.sheet_id must be a whole number from 1 (the first sheet), not 0; to read every sheet, set "
            "sheet_name: '*'",
        ),
        ("{sheet_id: 1, sheet_name: a}", "options: sheet_name and sheet_id both given; keep one"),
        (
            "{sheet_name: 2010}",
            "options.sheet_name 2010 is not text: quote it (sheet_name: '2010'), or give the sheet's number as "
            "sheet_id",
        ),
    ],
)
def test_sheet_options_that_fit_no_workbook_are_refused_with_the_config(
    tmp_path: Path, options: str, problem: str
) -> None:
    config = write_config(tmp_path, [source()])
    sheets_option(config, options)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(caught.value).endswith(f"sources.shop: {problem}")


def test_a_change_of_how_the_workbook_is_read_stops_until_a_full_refresh_reads_it_again(retail: Path) -> None:
    config = write_config(retail.parent, [source()])
    assert [(load.status, load.rows_staged) for load in extract_once(config, "run-1")] == [("loaded", 2)]
    # raw holds the first sheet only: staging raw again with the new options would miss the second sheet
    sheets_option(config, "{sheet_name: '*'}")
    message = (
        "source 'shop': how its files are read changed since they were loaded (its format, encoding or reader "
        "options): raw holds what the earlier settings read, and re-staging it would keep that. Read the source "
        "again with --full-refresh shop (the flow's full_refresh parameter; the rows of files no longer in its "
        "folder are then gone), or put the earlier settings back"
    )
    with pytest.raises(DataError, match=re.escape(message)):
        extract_once(config, "run-2")
    assert [row[2] for row in staged(config)] == ["13085", "13078"]  # nothing changed
    assert [(load.status, load.rows_staged) for load in extract_once(config, "run-3", ["shop"])] == [
        ("loaded", 3)
    ]
    assert [row[2] for row in staged(config)] == ["13085", "13078", "17850"]
    assert [(load.status, load.rows_read) for load in extract_once(config, "run-4")] == [("unchanged", 0)]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select file, run_id from audit.load_state") == [("retail.xlsx", "run-3")]


def test_loads_made_before_the_reader_was_fingerprinted(
    retail: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(retail.parent, [source()])
    extract_once(config, "run-1")
    with Warehouse.open(load_config(config)) as wh:  # as a warehouse made before the column was kept
        wh.execute("update audit.load_state set reader_fingerprint = null")
    # the same config: read as now, so a later change of the reader is known
    assert [load.status for load in extract_once(config, "run-2")] == ["unchanged"]
    with Warehouse.open(load_config(config)) as wh:
        assert wh.scalar("select count(*) from audit.load_state where reader_fingerprint is null") == 0
        wh.execute("update audit.load_state set reader_fingerprint = null")
    # a changed config: whether the reader changed is unknown; re-staged, with a warning saying what to do
    sheets_option(config, "{sheet_name: 'Year 2009-2010'}")
    with caplog.at_level("WARNING"):
        assert [load.status for load in extract_once(config, "run-3")] == ["restaged"]
    assert (
        "source shop: its config changed, and its loads were made before a load recorded how its files were read: "
        "if the change is to its format, encoding or reader options, run with --full-refresh shop to read them "
        "again (re-staged from raw here)"
    ) in caplog.text
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.scalar("select count(*) from audit.load_state where reader_fingerprint is null") == 0


def test_a_blank_first_sheet_names_the_sheets_that_hold_rows(tmp_path: Path) -> None:
    workbook(tmp_path / "book.xlsx", {"Sheet1": [], "Data": [HEADER, ["1", "Ann"]], "Old": [HEADER]})
    config = write_config(tmp_path, [source()])
    message = (
        "source 'shop': sheet 'Sheet1' of book.xlsx is blank; 'Data' hold rows: set the reader option sheet_name "
        "to one of them, or to '*' for every sheet"
    )
    with pytest.raises(DataError, match=re.escape(message)):
        extract_once(config, "run-1")


def test_check_says_so_before_a_run_but_not_for_a_full_refresh_of_the_source(retail: Path) -> None:
    config = write_config(retail.parent, [source()])
    extract_once(config, "run-1")
    sheets_option(config, "{sheet_name: '*'}")
    problems = [str(problem) for problem in preflight(load_config(config))]
    assert problems == [
        "sources.shop: how its files are read changed since they were loaded (its format, encoding or reader "
        "options): raw holds what the earlier settings read, and re-staging it would keep that. Read the source "
        "again with --full-refresh shop (the flow's full_refresh parameter; the rows of files no longer in its "
        "folder are then gone), or put the earlier settings back"
    ]
    assert preflight(load_config(config), full_refresh=["shop"]) == []
    assert preflight(load_config(config), full_refresh=["all"]) == []


def test_check_warns_of_sheets_left_unread_and_does_not_stop(retail: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    config = write_config(retail.parent, [source()])
    [problem] = preflight(load_config(config))
    assert problem.warning
    assert str(problem) == (
        "sources.shop: retail.xlsx: sheet 'Year 2010-2011' (1 row) not read (the source reads the first sheet) — "
        "set the reader option sheet_name: '*' to read every sheet (with the same columns), or add a source per sheet"
    )
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0
    assert result.output.startswith(f"warning: {problem}\n{config}: OK — 1 sources checked")
    # a source that reads every sheet has nothing left out (one that names its sheet is warned of the others, as
    # a run warns of them)
    assert preflight(load_config(write_config(retail.parent, [source(sheet_name="*")]))) == []
