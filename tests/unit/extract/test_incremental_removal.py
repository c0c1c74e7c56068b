"""Removing or rewriting a file removes only what no other file holds: rows dropped for repeating it come back."""

import os
from datetime import date
from pathlib import Path

import pytest
import yaml

from tasks.extract import SourceLoad
from tasks.extract.preflight import preflight
from tasks.shared.config import load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.sources import CRM_CSV, PAY_CSV, extract_once, write_config

PAY_HEADER = "txn_id,member_id,amount,ts\n"
T1 = "T1,M1,10.00,2026-03-01 10:00:00\n"
T3 = "T3,M3,30.00,2026-03-01 11:00:00\n"
T3_OTHER = "T3,M3,31.00,2026-03-01 11:00:00\n"  # the same id with other values: a conflict
T4 = "T4,M4,40.00,2026-03-01 12:00:00\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rows(config: Path, sql: str) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows(sql)


def staged_transactions(config: Path) -> list[tuple]:
    return rows(config, "select txn_id, _file, _row from staging.transactions order by txn_id")


def audit_rows(config: Path) -> tuple[list[tuple], list[tuple]]:
    duplicates = rows(
        config, "select file, row_number, kept_file, kept_row_number from audit.duplicates order by all"
    )
    quarantine = rows(config, "select file, row_number, reason from audit.quarantine order by all")
    return duplicates, quarantine


def test_removing_a_file_restores_a_row_dropped_as_its_duplicate(tmp_path: Path) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    a = write(tmp_path, "pay/a.csv", PAY_HEADER + T1 + T3)
    write(tmp_path, "pay/b.csv", PAY_HEADER + T3 + T4)
    assert extract_once(config, "run-1") == [SourceLoad("pay", "transactions", 2, 2, 4, 3, 0, 1, "loaded")]
    assert audit_rows(config)[0] == [("pay/b.csv", 1, "pay/a.csv", 2)]

    a.unlink()
    # T3 was staged from a.csv only; its copy in b.csv had been dropped as a duplicate and was lost
    assert extract_once(config, "run-2") == [SourceLoad("pay", "transactions", 1, 0, 1, 1, 0, 0, "loaded")]
    assert staged_transactions(config) == [("T3", "pay/b.csv", 1), ("T4", "pay/b.csv", 2)]
    assert audit_rows(config) == ([], [])
    # a third run has nothing to do
    assert extract_once(config, "run-3")[0].status == "unchanged"
    assert staged_transactions(config) == [("T3", "pay/b.csv", 1), ("T4", "pay/b.csv", 2)]


def test_rewriting_a_file_keeps_the_rows_other_files_hold(tmp_path: Path) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    a = write(tmp_path, "pay/a.csv", PAY_HEADER + T1 + T3)
    write(tmp_path, "pay/b.csv", PAY_HEADER + T3 + T4)
    write(tmp_path, "pay/c.csv", PAY_HEADER + T3)
    extract_once(config, "run-1")
    a.write_text(PAY_HEADER + T1, encoding="utf-8")  # T3 taken out of a.csv
    loads = extract_once(config, "run-2")
    assert (loads[0].files_loaded, loads[0].rows_staged, loads[0].duplicates_dropped) == (1, 2, 1)
    # as a fresh load of a, b and c: T3 from b.csv, its copy in c.csv dropped as b's duplicate
    assert staged_transactions(config) == [
        ("T1", "pay/a.csv", 1),
        ("T3", "pay/b.csv", 1),
        ("T4", "pay/b.csv", 2),
    ]
    assert audit_rows(config) == ([("pay/c.csv", 1, "pay/b.csv", 1)], [])


def test_removing_a_file_stages_a_row_quarantined_as_a_conflict_with_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    a = write(tmp_path, "pay/a.csv", PAY_HEADER + T1 + T3)
    write(tmp_path, "pay/b.csv", PAY_HEADER + T3_OTHER + T4)
    extract_once(config, "run-1")
    assert audit_rows(config)[1] == [
        ("pay/b.csv", 1, "duplicate txn_id 'T3' with other values than pay/a.csv row 2")
    ]
    a.unlink()
    extract_once(config, "run-2")
    assert staged_transactions(config) == [("T3", "pay/b.csv", 1), ("T4", "pay/b.csv", 2)]
    assert rows(config, "select amount from staging.transactions where txn_id = 'T3'") == [(31,)]
    assert audit_rows(config) == ([], [])


EARLY, LATE = 1_764_000_000_000_000_000, 1_764_000_100_000_000_000  # mtimes (ns): arrival is not the mtime


@pytest.mark.parametrize(
    "then", ["full refresh", "restage", "rewrite", "rename", "rename, then full refresh"]
)
def test_a_conflict_keeps_the_row_that_arrived_first_whatever_the_file_names(
    tmp_path: Path, then: str
) -> None:
    """A full refresh, a restage or a rewrite keeps the row the daily runs kept: files rank by first load."""
    config = write_config(tmp_path, [PAY_CSV])
    first = write(tmp_path, "pay/payments.csv", PAY_HEADER + T3)
    extract_once(config, "run-1")
    late = write(tmp_path, "pay/a-late.csv", PAY_HEADER + T3_OTHER)  # sorts first, and looks older
    os.utime(late, ns=(EARLY, EARLY))
    os.utime(first, ns=(LATE, LATE))
    extract_once(config, "run-2")
    kept = "pay/payments.csv"
    if then == "full refresh":
        assert extract_once(config, "run-3", ["all"])[0].status == "loaded"
    elif then == "restage":
        config.write_text(config.read_text(encoding="utf-8").replace("amount: amount", "amount: amount + 0"))
        assert extract_once(config, "run-3")[0].status == "restaged"
    elif then == "rewrite":  # a row appended: the file is read again, its rows are those of its first load
        first.write_text(PAY_HEADER + T3 + T4, encoding="utf-8")
        extract_once(config, "run-3")
    else:
        first.rename(tmp_path / "pay" / "z-payments.csv")
        if then == "rename":
            extract_once(config, "run-3")  # followed as a move: its rows keep the name payments.csv
        else:
            extract_once(config, "run-3", ["all"])  # read again under its new name, found by its content
            kept = "pay/z-payments.csv"
    assert rows(config, "select txn_id, amount, _file from staging.transactions where txn_id = 'T3'") == [
        ("T3", 30, kept)
    ]
    assert audit_rows(config)[1] == [
        ("pay/a-late.csv", 1, f"duplicate txn_id 'T3' with other values than {kept} row 1")
    ]


def test_files_first_loaded_in_one_run_rank_by_name(tmp_path: Path) -> None:
    """Nothing says which of two files read in one run came first: the name decides, whatever the mtimes."""
    config = write_config(tmp_path, [PAY_CSV])
    os.utime(write(tmp_path, "pay/payments.csv", PAY_HEADER + T3), ns=(EARLY, EARLY))
    os.utime(write(tmp_path, "pay/a-late.csv", PAY_HEADER + T3_OTHER), ns=(LATE, LATE))
    extract_once(config, "run-1")
    assert audit_rows(config)[1] == [
        ("pay/payments.csv", 1, "duplicate txn_id 'T3' with other values than pay/a-late.csv row 1")
    ]
    # and a full refresh keeps that choice
    extract_once(config, "run-2", ["all"])
    assert rows(config, "select amount, _file from staging.transactions") == [(31, "pay/a-late.csv")]


def test_raising_max_bad_row_share_loads_the_new_file_without_restaging_the_source(tmp_path: Path) -> None:
    """The bad-row limit judges a load and changes nothing staged: following the error's advice re-stages nothing."""
    config = write_config(tmp_path, [PAY_CSV | {"max_bad_row_share": 0.05}])
    write(tmp_path, "pay/a.csv", PAY_HEADER + T1 + T3)
    extract_once(config, "run-1")
    write(tmp_path, "pay/b.csv", PAY_HEADER + T4 + "T5,M5,12.5块,2026-03-01 13:00:00\n")
    with pytest.raises(DataError, match="raise sources.pay.max_bad_row_share$"):
        extract_once(config, "run-2")
    config.write_text(
        config.read_text(encoding="utf-8").replace("max_bad_row_share: 0.05", "max_bad_row_share: 0.5")
    )
    assert extract_once(config, "run-3") == [SourceLoad("pay", "transactions", 2, 1, 2, 1, 1, 0, "loaded")]
    assert staged_transactions(config) == [
        ("T1", "pay/a.csv", 1),
        ("T3", "pay/a.csv", 2),
        ("T4", "pay/b.csv", 1),
    ]


CRM = {
    "name": "crm",
    "kind": "customers",
    "format": "csv",
    "path": "crm/*.csv",
    "columns": {"source_id": "id", "email": "email", "updated_at": "updated"},
}
CRM_HEADER = "id,email,updated\n"


@pytest.mark.parametrize("removed", ["a.csv", "b.csv"])
@pytest.mark.parametrize("runs", ["one run", "two runs"])
def test_removing_a_file_keeps_a_customer_record_another_file_holds(
    tmp_path: Path, removed: str, runs: str
) -> None:
    config = write_config(tmp_path, [CRM])
    write(
        tmp_path,
        "crm/a.csv",
        CRM_HEADER + "C1,c1@x.com,2026-01-05 10:00:00\nC2,c2@x.com,2026-01-06 10:00:00\n",
    )
    if runs == "two runs":
        extract_once(config, "run-1")
    write(tmp_path, "crm/b.csv", CRM_HEADER + "C1,c1@x.com,2026-01-05 10:00:00\n")  # the same version again
    extract_once(config, "run-2")
    (tmp_path / "crm" / removed).unlink()
    extract_once(config, "run-3")
    # the record C1 disappeared with the file its row was staged from, although the other file holds it
    kept = "crm/b.csv" if removed == "a.csv" else "crm/a.csv"
    assert rows(config, "select source_id, _file from staging.customers where source_id = 'C1'") == [
        ("C1", kept)
    ]
    assert rows(config, "select valid_to from staging.customers where source_id = 'C1'") == [(None,)]
    assert audit_rows(config) == ([], [])


def test_removing_a_file_removes_its_unattributed_rows(tmp_path: Path) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    a = write(tmp_path, "pay/a.csv", PAY_HEADER + T1 + "T5,,50.00,2026-03-01 13:00:00\n")  # T5: nobody's
    write(tmp_path, "pay/b.csv", PAY_HEADER + T4)
    extract_once(config, "run-1")
    assert rows(config, "select txn_id, _file from staging.unattributed_transactions") == [
        ("T5", "pay/a.csv")
    ]
    a.unlink()
    extract_once(config, "run-2")
    assert rows(config, "select txn_id from staging.unattributed_transactions") == []
    assert staged_transactions(config) == [("T4", "pay/b.csv", 1)]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.name == "tasks.extract"]


def test_a_file_gone_or_cut_short_is_said_with_the_rows_it_takes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    a = write(tmp_path, "pay/a.csv", PAY_HEADER + T1)
    b = write(tmp_path, "pay/b.csv", PAY_HEADER + T3 + T4)
    extract_once(config, "run-1")

    caplog.set_level("WARNING", logger="tasks.extract")
    a.unlink()
    b.write_text(PAY_HEADER + T4, encoding="utf-8")  # rewritten with one row of its two
    extract_once(config, "run-2")
    assert warnings_of(caplog) == [
        "source pay: file pay/a.csv is gone: raw and staging lose its 1 row (33.3% of the source's). Files "
        "are the source's history: keep them in place (a drop folder that archives old files loses them from "
        "the customers' history)",
        "source pay: file pay/b.csv changed and holds 1 row, 1 fewer than the 2 loaded before (a file cut "
        "short, or rows taken out of it): the missing rows leave raw and staging",
    ]
    assert staged_transactions(config) == [("T4", "pay/b.csv", 1)]

    caplog.clear()
    b.write_text(PAY_HEADER + T4 + T1, encoding="utf-8")  # a file that grows is not worth a word
    extract_once(config, "run-3")
    assert warnings_of(caplog) == []


@pytest.mark.parametrize("emptied", ["header", "0 bytes"])
def test_a_loaded_file_rewritten_with_no_row_keeps_its_last_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, emptied: str
) -> None:
    """A failed export that leaves the header only, or nothing: the rows stay (as a database's empty answer), said
    each run until the file holds rows again, is deleted, or the source is read again from scratch."""
    empty = PAY_HEADER if emptied == "header" else ""
    gbk = {**PAY_CSV, "name": "gbk", "path": "gbk/*.csv", "encoding": "gbk"}  # read through a transcoded copy
    config = write_config(tmp_path, [PAY_CSV, gbk])
    write(tmp_path, "pay/a.csv", PAY_HEADER + T1)
    b = write(tmp_path, "pay/b.csv", PAY_HEADER + T3 + T4)
    g = tmp_path / "gbk" / "g.csv"
    g.parent.mkdir()
    g.write_bytes((PAY_HEADER + "T9,M9,90.00,2026-03-01 10:00:00\n").encode("gbk"))
    extract_once(config, "run-1")
    hashes = rows(config, "select file, file_hash from audit.load_state order by file")

    caplog.set_level("WARNING", logger="tasks.extract")
    b.write_text(empty, encoding="utf-8")
    g.write_bytes(empty.encode("gbk"))
    # segments check warns of a file of 0 bytes whose last read a run keeps (a header alone reads as no row)
    assert [str(p) for p in preflight(load_config(config))] == (
        []
        if empty
        else [
            f"sources.{name}: {file}: is empty (0 bytes) and was loaded before: a run keeps its last read, taking "
            "it for a failed export"
            for name, file in (("pay", "pay/b.csv"), ("gbk", "gbk/g.csv"))
        ]
    )
    assert extract_once(config, "run-2") == [
        SourceLoad("pay", "transactions", 2, 0, 0, 0, 0, 0, "unchanged"),
        SourceLoad("gbk", "transactions", 1, 0, 0, 0, 0, 0, "unchanged"),
    ]
    said = [
        "source pay: file pay/b.csv held 2 rows when loaded and now holds none (0 bytes, or a header alone): its "
        "last read is kept, an emptied file taken for a failed export (to take its rows out, delete the file, or run with "
        "--full-refresh pay)",
        "source gbk: file gbk/g.csv held 1 row when loaded and now holds none (0 bytes, or a header alone): its "
        "last read is kept, an emptied file taken for a failed export (to take its rows out, delete the file, or run with "
        "--full-refresh gbk)",
    ]
    assert warnings_of(caplog) == said
    assert staged_transactions(config) == [
        ("T1", "pay/a.csv", 1),
        ("T3", "pay/b.csv", 1),
        ("T4", "pay/b.csv", 2),
        ("T9", "gbk/g.csv", 1),
    ]
    assert rows(config, "select count(*) from raw.pay") == [(3,)]
    assert rows(config, "select file, file_hash from audit.load_state order by file") == hashes

    caplog.clear()  # said again while the file stays empty
    extract_once(config, "run-3")
    assert warnings_of(caplog) == said

    caplog.clear()  # the export came back: read as any rewritten file
    b.write_text(PAY_HEADER + T4, encoding="utf-8")
    extract_once(config, "run-4")
    assert [m for m in warnings_of(caplog) if "pay/b.csv" in m] == [
        "source pay: file pay/b.csv changed and holds 1 row, 1 fewer than the 2 loaded before (a file cut "
        "short, or rows taken out of it): the missing rows leave raw and staging"
    ]
    assert [r for r in staged_transactions(config) if r[1] == "pay/b.csv"] == [("T4", "pay/b.csv", 1)]

    b.write_text(empty, encoding="utf-8")  # a full refresh reads the files as they are
    if not empty:
        with pytest.raises(DataError, match=r"^source 'pay': file pay/b\.csv is empty \(0 bytes\)$"):
            extract_once(config, "run-5", full_refresh=["pay"])
        b.write_text(PAY_HEADER, encoding="utf-8")
    extract_once(config, "run-5", full_refresh=["pay"])
    assert [r for r in staged_transactions(config) if r[1] != "gbk/g.csv"] == [("T1", "pay/a.csv", 1)]


def test_a_header_that_names_two_columns_alike_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, [{**CRM_CSV, "path": "crm/*.csv"}])
    write(tmp_path, "crm/a.csv", "id,name,email,Name,name\nM1,张三,a@example.com,Zhang,San\n")
    caplog.set_level("WARNING", logger="tasks.extract")
    extract_once(config, "run-1")
    assert warnings_of(caplog) == [
        "source crm: file crm/a.csv has 3 columns named 'name' (columns 2, 4, 5): a mapping of 'name' reads the "
        "first; DuckDB names the others 'Name_1', 'name_2'"
    ]
    assert rows(config, "select source_id, full_name from staging.customers") == [("M1", "张三")]


def test_a_csv_without_a_last_line_break_is_said_to_be_maybe_cut_short(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    write(tmp_path, "pay/a.csv", PAY_HEADER + T1 + T3)
    write(tmp_path, "pay/b.csv", PAY_HEADER + T4[:-10])  # copied in part: the row stops inside its time
    caplog.set_level("WARNING", logger="tasks.extract")
    extract_once(config, "run-1")
    assert warnings_of(caplog) == [
        "source pay: file pay/b.csv does not end with a line break: its last row (row 1) may be cut short (a "
        "file still being written, or copied in part); its rows are loaded as they are"
    ]


def test_a_complete_utf16_csv_is_not_said_to_be_cut_short(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, [{**PAY_CSV, "encoding": "utf-16"}])
    path = tmp_path / "pay" / "a.csv"
    path.parent.mkdir()
    path.write_bytes((PAY_HEADER + T1).encode("utf-16"))  # ends with b"\n\x00": a line break in UTF-16
    caplog.set_level("WARNING", logger="tasks.extract")
    extract_once(config, "run-1")
    assert warnings_of(caplog) == []
    assert staged_transactions(config) == [("T1", "pay/a.csv", 1)]


def test_a_re_pointed_data_folder_and_a_renamed_file_are_followed_not_read_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = tmp_path / "exports-1", tmp_path / "exports-2"
    write(first, "pay/a.csv", PAY_HEADER + T1 + T3)
    write(first, "pay/b.csv", PAY_HEADER + T4)
    (tmp_path / "data").symlink_to(first)
    config = write_config(tmp_path, [PAY_CSV | {"path": "data/pay/*.csv"}])
    assert extract_once(config, "run-1") == [SourceLoad("pay", "transactions", 2, 2, 3, 3, 0, 0, "loaded")]
    before = staged_transactions(config)
    assert before == [
        ("T1", "exports-1/pay/a.csv", 1),
        ("T3", "exports-1/pay/a.csv", 2),
        ("T4", "exports-1/pay/b.csv", 1),
    ]

    # the link re-pointed at a copy (new mtimes), and one file renamed there
    write(second, "pay/a.csv", PAY_HEADER + T1 + T3)
    write(second, "pay/b-renamed.csv", PAY_HEADER + T4)
    (tmp_path / "data").unlink()
    (tmp_path / "data").symlink_to(second)
    with caplog.at_level("INFO"):
        assert extract_once(config, "run-2") == [
            SourceLoad("pay", "transactions", 2, 0, 0, 0, 0, 0, "unchanged")
        ]
    assert staged_transactions(config) == before
    assert "is gone" not in caplog.text
    assert rows(config, "select file, found_as, run_id from audit.file_moves order by file") == [
        ("exports-1/pay/a.csv", "exports-2/pay/a.csv", "run-2"),
        ("exports-1/pay/b.csv", "exports-2/pay/b-renamed.csv", "run-2"),
    ]
    assert (
        "source pay: exports-2/pay/b-renamed.csv has the content of exports-1/pay/b.csv, gone from there: "
        "followed as a move" in caplog.text
    )
    # a file changed at its new place is read again under the name it carries
    write(second, "pay/b-renamed.csv", PAY_HEADER + T4 + "T5,M5,50.00,2026-03-01 13:00:00\n")
    assert extract_once(config, "run-3") == [SourceLoad("pay", "transactions", 2, 1, 2, 2, 0, 0, "loaded")]
    assert staged_transactions(config)[-2:] == [
        ("T4", "exports-1/pay/b.csv", 1),
        ("T5", "exports-1/pay/b.csv", 2),
    ]


def relink(link: Path, target: Path) -> None:
    link.unlink()
    link.symlink_to(target)


def test_a_folder_moved_twice_is_followed_each_time_and_a_full_refresh_forgets_the_moves(
    tmp_path: Path,
) -> None:
    folders = [tmp_path / f"exports-{n}" for n in (1, 2, 3)]
    for folder in folders:
        write(folder, "pay/a.csv", PAY_HEADER + T1 + T3)
    (tmp_path / "data").symlink_to(folders[0])
    config = write_config(tmp_path, [PAY_CSV | {"path": "data/pay/*.csv"}])
    extract_once(config, "run-1")
    unchanged = [SourceLoad("pay", "transactions", 1, 0, 0, 0, 0, 0, "unchanged")]
    for run, folder in ((2, folders[1]), (3, folders[2])):
        relink(tmp_path / "data", folder)
        assert extract_once(config, f"run-{run}") == unchanged
    assert rows(config, "select file, found_as, run_id from audit.file_moves") == [
        ("exports-1/pay/a.csv", "exports-3/pay/a.csv", "run-3")
    ]
    assert staged_transactions(config) == [("T1", "exports-1/pay/a.csv", 1), ("T3", "exports-1/pay/a.csv", 2)]

    # a full refresh reads the files under their names now; a later file at a once-followed place is new
    extract_once(config, "run-4", full_refresh=["pay"])
    assert rows(config, "select count(*) from audit.file_moves") == [(0,)]
    assert staged_transactions(config) == [("T1", "exports-3/pay/a.csv", 1), ("T3", "exports-3/pay/a.csv", 2)]
    write(folders[0], "pay/a.csv", PAY_HEADER + T4)
    relink(tmp_path / "data", folders[0])
    assert extract_once(config, "run-5") == [SourceLoad("pay", "transactions", 1, 1, 1, 1, 0, 0, "loaded")]
    assert staged_transactions(config) == [("T4", "exports-1/pay/a.csv", 1)]


def test_a_run_that_only_loses_a_file_says_removed_not_unchanged(tmp_path: Path) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    a = write(tmp_path, "pay/a.csv", PAY_HEADER + T1)
    write(tmp_path, "pay/b.csv", PAY_HEADER + T3)
    extract_once(config, "run-1")
    a.unlink()
    assert extract_once(config, "run-2") == [SourceLoad("pay", "transactions", 1, 0, 0, 0, 0, 0, "removed")]
    assert staged_transactions(config) == [("T3", "pay/b.csv", 1)]
    assert extract_once(config, "run-3") == [SourceLoad("pay", "transactions", 1, 0, 0, 0, 0, 0, "unchanged")]


def test_changing_date_order_restages_the_birth_dates_it_reads(tmp_path: Path) -> None:
    """dedupe.date_order decides how staging reads 02/01/1990: a change re-stages the customers sources whose
    birth dates it reads (only those), and the default leaves the fingerprint as it was before the setting."""
    crm = CRM_CSV | {"path": "crm/*.csv", "columns": {"source_id": "id", "birth_date": "born"}}
    config = write_config(tmp_path, [crm | {"max_bad_row_share": 1.0}, PAY_CSV])
    write(tmp_path, "crm/a.csv", "id,born\nM1,02/01/1990\nM2,25/12/1990\n")
    write(tmp_path, "pay/a.csv", PAY_HEADER + T1)
    extract_once(config, "run-1")
    births = "select source_id, birth_date from staging.customers order by all"
    assert rows(config, births) == [("M2", date(1990, 12, 25))]  # M1 quarantined: ambiguous
    for order, m1 in (("dmy", date(1990, 1, 2)), ("mdy", date(1990, 2, 1))):
        settings = yaml.safe_load(config.read_text(encoding="utf-8")) | {"dedupe": {"date_order": order}}
        config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        loads = {load.source: load.status for load in extract_once(config, f"run-{order}")}
        assert loads == {"crm": "restaged", "pay": "unchanged"}
        assert rows(config, births) == [("M1", m1), ("M2", date(1990, 12, 25))]


def test_a_file_rewritten_to_the_same_size_and_mtime_is_read_again(tmp_path: Path) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    a = write(tmp_path, "pay/a.csv", PAY_HEADER + T1 + T3)
    extract_once(config, "run-1")
    before = a.stat()
    a.write_text(PAY_HEADER + T1 + T3.replace("30.00", "39.00"), encoding="utf-8")  # same size
    os.utime(a, ns=(before.st_atime_ns, before.st_mtime_ns))  # `touch -r`: the mtime put back
    assert (a.stat().st_size, a.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert extract_once(config, "run-2")[0].files_loaded == 1  # its ctime moved: hashed, and it changed
    assert rows(config, "select txn_id, amount from staging.transactions order by all") == [
        ("T1", 10),
        ("T3", 39),
    ]
    # touched again, same content: hashed, not read; then its size, mtime and ctime are known again
    os.utime(a, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert extract_once(config, "run-3")[0].status == "unchanged"
    assert rows(config, "select ctime_ns from audit.load_state") == [(a.stat().st_ctime_ns,)]


def test_a_copy_of_a_loaded_file_of_facts_is_not_read_until_the_file_it_copies_is_gone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """'pay (1).csv' saved again by a browser: its rows with an id were dropped as duplicates, but a row without
    one was staged twice and its customer's revenue counted twice (fault injection)."""
    config = write_config(tmp_path, [PAY_CSV])
    content = PAY_HEADER + T1 + ",M2,20.00,2026-03-01 10:30:00\n"  # the second row has no txn_id
    write(tmp_path, "pay/a.csv", content)
    write(tmp_path, "pay/b.csv", content)  # read in the same run as the file it copies
    caplog.set_level("WARNING", logger="tasks.extract")
    assert extract_once(config, "run-1") == [SourceLoad("pay", "transactions", 2, 1, 2, 2, 0, 0, "loaded")]
    write(tmp_path, "pay/a (1).csv", content)
    assert extract_once(config, "run-2") == [SourceLoad("pay", "transactions", 3, 0, 0, 0, 0, 0, "unchanged")]
    assert [m for m in warnings_of(caplog) if "a copy" in m] == [
        "source pay: pay/b.csv has the content of pay/a.csv: not read, a copy (it is read when pay/a.csv is gone, "
        "as that file moved)",
        "source pay: pay/a (1).csv has the content of pay/a.csv: not read, a copy (it is read when pay/a.csv is "
        "gone, as that file moved)",
        "source pay: pay/b.csv has the content of pay/a.csv: not read, a copy (it is read when pay/a.csv is gone, "
        "as that file moved)",
    ]
    (tmp_path / "pay" / "a.csv").unlink()  # the copies hold its rows: one of them is the file moved
    extract_once(config, "run-3")
    assert rows(config, "select txn_id, _file, _row from staging.transactions order by _row") == [
        ("T1", "pay/a.csv", 1),
        (None, "pay/a.csv", 2),
    ]
