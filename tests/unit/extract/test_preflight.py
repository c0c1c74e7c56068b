"""Tests for tasks.extract.preflight: configs and small files in tmp_path, each problem as its one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from tasks.extract.diagnose import reason_fix
from tasks.extract.preflight import Problem, preflight
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.errors import DAMAGED_FILE_ADVICE
from tasks.shared.text import sized
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO

RETAIL_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
RETAIL_ROWS = (
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850.0,United Kingdom\n"
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,13047.0,United Kingdom\n"
    "C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527.0,United Kingdom\n"
)
SHOP = {
    "name": "shop",
    "kind": "transactions",
    "format": "csv",
    "path": "data/online_retail*.csv",
    "columns": {
        "txn_id": "InvoiceNo || '-' || StockCode",
        "order_id": "InvoiceNo",
        "customer_ref": "CustomerID",
        "amount": "Quantity * UnitPrice",
        "ts": "strptime(InvoiceDate, '%m/%d/%Y %H:%M')",
        "status": "case when InvoiceNo like 'C%' then 'cancelled' else 'paid' end",
    },
}


def config(folder: Path, sources: list[dict[str, Any]], **extra: Any) -> PipelineConfig:
    path = folder / "config.yaml"
    data = {"warehouse": "warehouse.duckdb", "sources": sources, **extra}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_config(path)


def retail(folder: Path, rows: str = RETAIL_ROWS, name: str = "online_retail_2010.csv") -> Path:
    (folder / "data").mkdir(exist_ok=True)
    path = folder / "data" / name
    path.write_text(RETAIL_HEADER + rows, encoding="utf-8")
    return path


def lines(problems: list[Problem]) -> list[str]:
    return [str(problem) for problem in problems]


def test_a_config_that_works_has_no_problems(tmp_path: Path) -> None:
    retail(tmp_path)
    assert preflight(config(tmp_path, [SHOP])) == []


def test_a_glob_that_matches_nothing_names_the_glob_the_folder_and_what_is_there(tmp_path: Path) -> None:
    retail(tmp_path, name="online-retail-2010.csv")
    assert lines(preflight(config(tmp_path, [SHOP]))) == [
        f"sources.shop: no files match data/online_retail*.csv (the folder {tmp_path}/data holds "
        f"online-retail-2010.csv) — the path is a glob relative to the config's folder {tmp_path}; "
        "did you mean 'data/online-retail-2010.csv'?"
    ]


def test_a_glob_into_a_missing_folder(tmp_path: Path) -> None:
    assert lines(preflight(config(tmp_path, [{**SHOP, "path": "exports/2024/*.csv"}]))) == [
        f"sources.shop: no files match exports/2024/*.csv (the folder {tmp_path}/exports/2024 does not exist) "
        f"— the path is a glob relative to the config's folder {tmp_path}"
    ]


def test_a_jsonl_line_that_is_not_an_object_is_named_not_every_column_missing(tmp_path: Path) -> None:
    (tmp_path / "social.jsonl").write_text(
        '{"id": "J1", "member": "000123", "ts": "2026-01-01 10:00:00"}\n["J2", "000124"]\n', encoding="utf-8"
    )
    social = {
        "name": "social",
        "kind": "events",
        "format": "jsonl",
        "path": "social.jsonl",
        "columns": {"event_id": "id", "customer_ref": "member", "ts": "ts"},
    }
    assert lines(preflight(config(tmp_path, [social]))) == [
        "sources.social: social.jsonl: cannot read as jsonl: line 2 is an array, not an object: each line of a "
        "JSON Lines file is one row, an object {…}"
    ]


def test_a_broken_link_among_the_files_is_a_problem_not_a_file_gone(tmp_path: Path) -> None:
    retail(tmp_path)
    (tmp_path / "data" / "online_retail_2011.csv").symlink_to("/mnt/retail/online_retail_2011.csv")
    assert lines(preflight(config(tmp_path, [SHOP]))) == [
        "sources.shop: data/online_retail_2011.csv (a link to /mnt/retail/online_retail_2011.csv, which does not "
        "exist): the source's path matches it but it cannot be read. Make it readable, or move it out of the "
        "source's folder if its rows are to leave the warehouse"
    ]


def test_a_mapped_column_missing_from_a_file_names_the_file_the_column_and_what_it_has(
    tmp_path: Path,
) -> None:
    retail(tmp_path)
    other = retail(tmp_path, name="online_retail_2011.csv")
    other.write_text(other.read_text().replace("UnitPrice", "Unit Price"), encoding="utf-8")
    assert lines(preflight(config(tmp_path, [SHOP]))) == [
        "sources.shop: data/online_retail_2011.csv, field amount: no column 'UnitPrice' (its columns: "
        "'InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'Unit Price', 'CustomerID', "
        "'Country') — rename in the mapping: 'UnitPrice' → 'Unit Price'"
    ]


def test_every_file_header_is_checked_even_when_only_some_files_are_sampled(tmp_path: Path) -> None:
    for day in range(1, 31):
        retail(tmp_path, name=f"online_retail_2010-12-{day:02d}.csv")
    odd = tmp_path / "data" / "online_retail_2010-12-14.csv"
    odd.write_text(odd.read_text().replace("CustomerID", "Customer ID"), encoding="utf-8")
    assert lines(preflight(config(tmp_path, [SHOP]))) == [
        "sources.shop: data/online_retail_2010-12-14.csv, field customer_ref: no column 'CustomerID' (its "
        "columns: 'InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', "
        "'Customer ID', 'Country') — rename in the mapping: 'CustomerID' → 'Customer ID'"
    ]


def test_column_names_match_without_regard_to_case_as_duckdb_binds_them(tmp_path: Path) -> None:
    retail(tmp_path)
    columns = {**SHOP["columns"], "amount": "quantity * unitprice"}
    assert preflight(config(tmp_path, [{**SHOP, "columns": columns}])) == []


def test_a_mapping_that_does_not_bind_names_the_field_and_what_to_do(tmp_path: Path) -> None:
    retail(tmp_path)
    columns = {**SHOP["columns"], "amount": "round(UnitPrice, 2)"}
    assert lines(preflight(config(tmp_path, [{**SHOP, "columns": columns}]))) == [
        "sources.shop: data/online_retail_2010.csv, field amount: round(UnitPrice, 2): Binder Error: No function "
        "matches the given name and argument types 'round(VARCHAR, INTEGER_LITERAL)'. You might need to add "
        "explicit type casts. — CSV and Excel columns are text, read as numbers only in arithmetic (+ - * /) "
        "and in comparisons with a number: elsewhere write cast(<column> as double)"
    ]


def test_a_number_in_quotes_does_not_bind(tmp_path: Path) -> None:
    retail(tmp_path)
    columns = {**SHOP["columns"], "amount": "Quantity * '2.5'"}
    assert lines(preflight(config(tmp_path, [{**SHOP, "columns": columns}]))) == [
        "sources.shop: data/online_retail_2010.csv, field amount: Quantity * '2.5': Binder Error: Could not "
        'choose a best candidate function for the function call "*(DOUBLE, STRING_LITERAL)". In order to select '
        "one, please add explicit type casts. — a value in quotes is text: write numbers without quotes"
    ]


def test_a_mapping_that_fails_on_every_row_names_the_first_row_and_the_value(tmp_path: Path) -> None:
    retail(tmp_path)
    columns = {**SHOP["columns"], "amount": "Quantity * Description"}
    assert lines(preflight(config(tmp_path, [{**SHOP, "columns": columns}]))) == [
        "sources.shop: data/online_retail_2010.csv row 1, field amount: every sampled row fails (5 of 5), "
        "here: Quantity * Description fails for Description 'WHITE HANGING HEART T-LIGHT HOLDER', Quantity '6' "
        "— the expression cannot convert this value (text read as a number must be one): correct the file or "
        "the expression; try_cast(...) leaves such a value empty instead"
    ]


def test_a_date_format_that_fits_no_row_is_a_problem(tmp_path: Path) -> None:
    retail(tmp_path)
    columns = {**SHOP["columns"], "ts": "strptime(InvoiceDate, '%Y-%m-%d %H:%M')"}
    assert lines(preflight(config(tmp_path, [{**SHOP, "columns": columns}]))) == [
        "sources.shop: data/online_retail_2010.csv row 1, field ts: every sampled row fails (5 of 5), here: "
        "strptime(InvoiceDate, '%Y-%m-%d %H:%M') fails for InvoiceDate '12/1/2010 8:26' — the value does not "
        "fit the format: %d day, %m month (%b Jan), %Y year (%y two digits), %H hour, %M minute, %S second; "
        "several formats: try_strptime(x, ['%d/%m/%Y', '%Y-%m-%d'])"
    ]


def test_one_bad_cell_is_not_a_problem_more_bad_rows_than_the_source_allows_are(tmp_path: Path) -> None:
    rows = RETAIL_ROWS.replace("12/1/2010 8:28", "13/45/2010 8:28")
    retail(tmp_path, rows * 4)  # 1 bad row in 5: 20%
    assert preflight(config(tmp_path, [{**SHOP, "max_bad_row_share": 0.25}])) == []
    assert lines(preflight(config(tmp_path, [SHOP]))) == [
        "sources.shop: data/online_retail_2010.csv row 3, field ts: 4 of 20 rows (20%) would be "
        "quarantined, more than max_bad_row_share 5%: the run would fail; the first here: "
        "strptime(InvoiceDate, '%m/%d/%Y %H:%M') fails for InvoiceDate '13/45/2010 8:28' — the value does not "
        "fit the format: %d day, %m month (%b Jan), %Y year (%y two digits), %H hour, %M minute, %S second; "
        "several formats: try_strptime(x, ['%d/%m/%Y', '%Y-%m-%d'])"
    ]


def test_only_the_sample_is_read_and_too_many_bad_rows_are_a_problem_only_when_it_is_every_row(
    tmp_path: Path,
) -> None:
    bad = "536368,22960,JAM MAKING SET,x,12/1/2010 8:34,4.25,13047.0,United Kingdom\n"
    retail(tmp_path, RETAIL_ROWS * 3 + bad * 2)  # 15 good rows, then 2 bad ones: 12% of 17
    pipeline = config(tmp_path, [SHOP])
    assert preflight(pipeline, sample_rows=15) == []  # the bad rows are past the sample
    assert preflight(pipeline, sample_rows=16) == []  # 1 of 16 sampled, but the file may hold more rows
    assert lines(preflight(pipeline, sample_rows=18)) == [
        "sources.shop: data/online_retail_2010.csv row 16, field amount: 2 of 17 rows (12%) would be "
        "quarantined, more than max_bad_row_share 5%: the run would fail; the first here: Quantity * UnitPrice "
        "fails for Quantity 'x', UnitPrice '4.25' — the expression cannot convert this value (text read as a "
        "number must be one): correct the file or the expression; try_cast(...) leaves such a value empty instead"
    ]


def test_a_file_in_another_encoding_than_declared(tmp_path: Path) -> None:
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "members.csv").write_bytes("会员编号,姓名\n000123,张三\n".encode("gbk"))
    source = {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "crm/*.csv",
        "columns": {"source_id": '"会员编号"', "full_name": '"姓名"'},
    }
    [problem] = preflight(config(tmp_path, [source]))
    assert (problem.source, problem.file) == ("sources.crm", "crm/members.csv")
    assert problem.message == (  # where the first bytes that are not UTF-8 are, and what to set
        "cannot read crm/members.csv as csv (encoding utf-8): it cannot be read as utf-8 (line 1, byte 0: "
        "b'\\xbb\\xe1\\xd4\\xb1'); set the source's `encoding` to the file's real encoding (e.g. gbk, gb18030, "
        "big5, utf-16)"
    )
    assert problem.fix is None  # the message says it
    assert preflight(config(tmp_path, [{**source, "encoding": "gbk"}])) == []
    [problem] = preflight(config(tmp_path, [{**source, "encoding": "big5"}]))  # GBK bytes are no Big5
    assert problem.message == (  # the file named once, by the problem
        "cannot be read as big5 (line 2, byte 23: b'\\xc8\\xfd\\n'). Set the source's `encoding` to the file's "
        "real encoding (e.g. gb18030, big5, utf-8)."
    )
    assert (problem.source, problem.file) == ("sources.crm", "crm/members.csv")
    assert problem.fix is None  # said once, by the message ("Set the source's ..."), not again after it


def test_a_gbk_sample_is_cut_after_a_whole_record(tmp_path: Path) -> None:
    # the head of a transcoded file ends after a record even where a quoted field holds a newline
    (tmp_path / "crm").mkdir()
    rows = "".join(f'{i:06d},"张三\n第{i}行"\n' for i in range(1, 40))
    (tmp_path / "crm" / "members.csv").write_bytes(("会员编号,备注\n" + rows).encode("gbk"))
    source = {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "encoding": "gbk",
        "path": "crm/*.csv",
        "columns": {"source_id": '"会员编号"', "full_name": '"备注"'},
    }
    for sample_rows in (1, 2, 3, 10):
        assert preflight(config(tmp_path, [source]), sample_rows=sample_rows) == []


def test_an_excel_sample(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pl.DataFrame(
        {"id": ["00123", "00124"], "paid_at": ["2026-01-01 10:00", "yesterday"], "amt": ["5", "6"]}
    ).write_excel(tmp_path / "data" / "pay.xlsx")
    source = {
        "name": "pay",
        "kind": "transactions",
        "format": "xlsx",
        "path": "data/*.xlsx",
        "columns": {"txn_id": "id", "customer_ref": "id", "ts": "paid_at", "amount": "amt * 100"},
    }
    assert lines(preflight(config(tmp_path, [source]))) == [
        "sources.pay: data/pay.xlsx row 2, field ts: 1 of 2 rows (50%) would be quarantined, more than "
        "max_bad_row_share 5%: the run would fail; the first here: 'yesterday' is not a valid timestamptz — "
        "read its layout with strptime(<column>, '<format>'), e.g. strptime(InvoiceDate, '%m/%d/%Y %H:%M')"
    ]


def test_an_unsupported_reader_option(tmp_path: Path) -> None:
    retail(tmp_path)
    assert lines(preflight(config(tmp_path, [{**SHOP, "options": {"ignore_errors": True}}]))) == [
        "sources.shop: reader option 'ignore_errors' is not supported for csv (allowed: comment, delim, escape, "
        "header, max_line_size, new_line, nullstr, quote, sep, skip) — remove the option or use one listed"
    ]


def test_a_wrong_delimiter(tmp_path: Path) -> None:
    retail(tmp_path)
    assert lines(preflight(config(tmp_path, [{**SHOP, "options": {"delim": ";"}}]))) == [
        "sources.shop: data/online_retail_2010.csv, field txn_id, order_id, customer_ref, amount, ts, status: "
        "no column 'CustomerID', 'InvoiceDate', 'InvoiceNo', 'Quantity', 'StockCode', 'UnitPrice' (its columns: "
        "'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country') — the header "
        "reads as one column: set the delimiter, options: {delim: ','}"
    ]


def test_a_postgres_source_without_its_connection_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOP_PG_DSN", raising=False)
    source = {
        "name": "members",
        "kind": "customers",
        "format": "postgres",
        "connection": {"dsn_env": "SHOP_PG_DSN"},
        "table": "public.members",
        "columns": {"source_id": "id"},
    }
    assert lines(preflight(config(tmp_path, [source]))) == [
        "sources.members: environment variable SHOP_PG_DSN is not set — "
        "export SHOP_PG_DSN=postgresql://user:password@host:5432/database"
    ]


def test_a_postgres_server_that_does_not_answer_is_a_problem_not_a_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SHOP_PG_DSN", f"postgresql://postgres@127.0.0.1:{port}/postgres")
    source = {
        "name": "members",
        "kind": "customers",
        "format": "postgres",
        "connection": {"dsn_env": "SHOP_PG_DSN"},
        "table": "public.members",
        "columns": {"source_id": "id"},
    }
    [problem] = preflight(config(tmp_path, [source]))
    assert problem.source == "sources.members"
    assert problem.message.startswith("PostgreSQL read failed: ")
    assert problem.fix == "check the server, the credentials and the table or query"


def test_a_missing_suppression_file(tmp_path: Path) -> None:
    retail(tmp_path)
    pipeline = config(tmp_path, [SHOP], privacy={"suppression_file": "suppressed.txt"})
    assert lines(preflight(pipeline)) == [
        f"privacy.suppression_file: {tmp_path}/suppressed.txt: file not found — create it (one email, phone or "
        "customer id per line) or remove privacy.suppression_file"
    ]
    (tmp_path / "suppressed.txt").write_text("a@example.com\n", encoding="utf-8")
    assert preflight(pipeline) == []


def test_a_warehouse_path_that_is_a_folder(tmp_path: Path) -> None:
    retail(tmp_path)
    (tmp_path / "warehouse.duckdb").mkdir()
    assert lines(preflight(config(tmp_path, [SHOP]))) == [
        f"warehouse: {tmp_path}/warehouse.duckdb: is a folder — name a file, e.g. warehouse.duckdb"
    ]


def test_a_warehouse_file_that_cannot_be_written(tmp_path: Path) -> None:
    retail(tmp_path)
    pipeline = config(tmp_path, [SHOP])
    with Warehouse(pipeline.warehouse_path) as wh:
        wh.ensure("ops/load_state")
    # mode bits do not stop root: as root the file is made immutable (chattr), as a user read-only
    as_root = os.geteuid() == 0
    if as_root and shutil.which("chattr") is None:
        pytest.skip("no chattr to make the file immutable")
    locked = subprocess.run(["chattr", "+i", str(pipeline.warehouse_path)], check=False) if as_root else None
    if locked is not None and locked.returncode != 0:
        pytest.skip("this file system has no immutable flag")
    if not as_root:
        pipeline.warehouse_path.chmod(0o444)
    try:
        assert lines(preflight(pipeline)) == [
            f"warehouse: {pipeline.warehouse_path}: cannot be written: the file is read-only — make "
            f"{pipeline.warehouse_path} writable"
        ]
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(pipeline.warehouse_path)], check=True)
        pipeline.warehouse_path.chmod(0o600)
    assert preflight(pipeline) == []


def test_a_damaged_warehouse_is_a_problem_and_a_held_one_is_not(tmp_path: Path) -> None:
    retail(tmp_path)
    pipeline = config(tmp_path, [SHOP])
    with Warehouse(pipeline.warehouse_path) as wh:
        wh.ensure("ops/load_state")
        wh.execute(
            "create table core.filler as select range as n, md5(range::varchar) as h from range(200000)"
        )
    # a run holding it as a writer: the files it loaded are not known, and nothing is wrong
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(pipeline.warehouse_path)!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        assert preflight(pipeline) == []
    finally:
        holder.communicate("", timeout=30)
    # cut short (a full disk, a copy made mid-write): every run would fail opening it
    size = pipeline.warehouse_path.stat().st_size
    with pipeline.warehouse_path.open("r+b") as file:
        file.truncate(size // 2)
    (problem,) = preflight(pipeline)
    assert (problem.source, problem.file) == ("warehouse", str(pipeline.warehouse_path))
    assert problem.message.startswith("cannot be opened: IO Error: Could not read enough bytes from file")
    assert problem.fix == DAMAGED_FILE_ADVICE
    # not a DuckDB file at all
    pipeline.warehouse_path.write_bytes(b"not a database" * 1000)
    (problem,) = preflight(pipeline)
    assert "not a valid DuckDB database file" in problem.message and problem.fix == DAMAGED_FILE_ADVICE


def test_preflight_leaves_no_files_and_no_warehouse(tmp_path: Path) -> None:
    retail(tmp_path)
    pipeline = config(tmp_path, [SHOP])
    before = sorted(tmp_path.rglob("*"))
    assert preflight(pipeline) == []
    assert sorted(tmp_path.rglob("*")) == before


def test_importing_the_preflight_check_does_not_import_prefect() -> None:
    code = "import sys, tasks.extract.preflight; print('prefect' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_problem_is_one_line() -> None:
    problem = Problem(
        "sources.shop", "data/retail.csv", 7, "amount", "'abc' * '2'", "write cast(Quantity as double)"
    )
    assert (
        str(problem)
        == "sources.shop: data/retail.csv row 7, field amount: 'abc' * '2' — write cast(Quantity as double)"
    )
    assert str(Problem("warehouse", message="is a folder")) == "warehouse: is a folder"


def test_a_postgres_source_is_sampled_through_its_mappings(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.sources import MEMBERS_SOURCE, PG_ENV, pg_execute

    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(
        postgres,
        "drop table if exists members",
        "create table members (id text primary key, name text, phone text, updated_at timestamptz)",
        "insert into members values ('00123', '张三', '13800138001', '2026-01-01 10:00+08')",
    )
    assert preflight(config(tmp_path, [MEMBERS_SOURCE])) == []
    columns = {**MEMBERS_SOURCE["columns"], "email": "mail"}
    assert lines(preflight(config(tmp_path, [{**MEMBERS_SOURCE, "columns": columns}]))) == [
        "sources.members: public.members, field email: no column 'mail' (its columns: 'id', 'name', 'phone', "
        "'updated_at') — map a column it has"
    ]


def test_a_slow_postgres_query_is_not_a_problem_the_run_has_no_such_limit(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.sources import MEMBERS_SOURCE, PG_ENV, pg_execute

    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(
        postgres,
        "drop table if exists members",
        "create table members (id text primary key, name text, phone text, updated_at timestamptz)",
        "insert into members values ('00123', '张三', '13800138001', '2026-01-01 10:00+08')",
    )
    slow = {k: v for k, v in MEMBERS_SOURCE.items() if k not in ("table", "watermark")}
    slow["query"] = "select m.* from members m, pg_sleep(7)"
    assert preflight(config(tmp_path, [slow])) == []


def test_the_bad_row_share_is_not_judged_when_some_files_were_not_sampled(tmp_path: Path) -> None:
    from tasks.extract.preflight import SAMPLED_FILES

    data = tmp_path / "data"
    data.mkdir()
    # 39 files: the rows of every second one are sampled (0, 2, …, 38), each with 4 bad rows of 34 (12%);
    # the 19 others hold 100 clean rows each, so a run quarantines 80 of 2,580 rows (3.1%) and passes
    assert SAMPLED_FILES == 20
    for n in range(39):
        sampled = n % 2 == 0
        bad = "".join(f"B{n}-{i},M1,not a time\n" for i in range(4)) if sampled else ""
        rows = "".join(f"T{n}-{i},M{i},2026-03-01 10:00:00\n" for i in range(30 if sampled else 100))
        (data / f"day{n:03}.csv").write_text("txn,member,ts\n" + bad + rows, encoding="utf-8")
    source = {
        "name": "shop",
        "kind": "transactions",
        "format": "csv",
        "path": "data/day*.csv",
        "columns": {"txn_id": "txn", "customer_ref": "member", "ts": "ts", "amount": "1"},
    }
    assert preflight(config(tmp_path, [source])) == []


def test_a_match_column_failing_on_many_rows_is_a_problem_and_a_few_are_not(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bank.csv").write_text(
        "id,booked,amount\nb1,2026/03/01,10.00\nb2,2026/03/02,12.50\nb3,,7.00\nb4,2026-03-04,9.00\n",
        encoding="utf-8",
    )
    bank = {
        "name": "bank",
        "kind": "customers",
        "format": "csv",
        "path": "data/bank.csv",
        "columns": {"source_id": "id"},
        "match_columns": {"paid": "strptime(booked, '%Y-%m-%d')::date", "amount": "amount::decimal(18,2)"},
    }
    # 2 of 4 rows are written 2026/03/01: more than max_bad_row_share (5%); b3 has no date to read
    compared = {"comparisons": [{"name": "paid", "kind": "date"}, {"name": "amount", "kind": "numeric"}]}
    assert lines(preflight(config(tmp_path, [bank], dedupe=compared))) == [
        "sources.bank: data/bank.csv row 1, field match_columns.paid: strptime(booked, '%Y-%m-%d')::date: cannot "
        "be computed on 2 of 4 sampled rows (50%); the matcher would compare them as missing — read the column's "
        "own layout, e.g. try_strptime(col, ['%Y/%m/%d', '%d.%m.%Y']) or try_cast"
    ]
    # two failing rows in four are within a tolerance of 60%
    assert preflight(config(tmp_path, [{**bank, "max_bad_row_share": 0.6}], dedupe=compared)) == []


# payments in data/*.csv with columns id, paid_at, amt (the tests of the bad share and of epoch times)
PAY_CSV = {
    "name": "pay",
    "kind": "transactions",
    "format": "csv",
    "path": "data/*.csv",
    "columns": {"txn_id": "id", "customer_ref": "id", "ts": "paid_at", "amount": "amt"},
}


def test_the_bad_share_is_judged_over_the_files_a_run_would_read(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    header = "id,paid_at,amt\n"
    good = "".join(f"T{i},2026-01-01 10:00,{i}\n" for i in range(20))  # longer than the sample: never whole
    new = "".join(f"N{i},{'yesterday' if i < 3 else '2026-01-02 10:00'},{i}\n" for i in range(9))
    (tmp_path / "data" / "a-old.csv").write_text(header + good, encoding="utf-8")
    (tmp_path / "data" / "b-new.csv").write_text(header + new, encoding="utf-8")
    pipeline = config(tmp_path, [PAY_CSV])
    # no warehouse yet: a run reads both files, 3 bad rows of 29 and more unseen: nothing certain to say
    assert preflight(pipeline, sample_rows=10) == []
    with Warehouse(pipeline.warehouse_path) as wh:
        wh.ensure("ops/load_state")
        wh.execute("insert into audit.load_state (source, file) values ('pay', 'data/a-old.csv')")
    # a-old.csv loaded: the next run reads b-new.csv alone, and 3 of its 9 rows fail
    assert lines(preflight(pipeline, sample_rows=10)) == [
        "sources.pay: data/b-new.csv row 1, field ts: 3 of 9 rows (33%) would be quarantined, more than "
        "max_bad_row_share 5%: the run would fail; the first here: 'yesterday' is not a valid timestamptz — "
        "read its layout with strptime(<column>, '<format>'), e.g. strptime(InvoiceDate, '%m/%d/%Y %H:%M')"
    ]


def test_epoch_seconds_read_as_text_are_told_to_use_to_timestamp(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pay.csv").write_text("id,paid_at,amt\nT1,1764900000,5\nT2,1764903600,6\n", "utf-8")
    assert lines(preflight(config(tmp_path, [PAY_CSV]))) == [
        "sources.pay: data/pay.csv row 1, field ts: every sampled row fails (2 of 2), here: '1764900000' is not a "
        "valid timestamptz — an epoch time: to_timestamp(cast(<column> as bigint)) for seconds, "
        "timezone('UTC', epoch_ms(cast(<column> as bigint))) for milliseconds"
    ]


@pytest.mark.parametrize(
    ("text", "ambiguous"),
    [
        ("02/01/1990", True),
        ("2-1-1990", True),
        ("12/12/1990", True),
        ("31/02/1990", False),
        ("00/05/1990", False),
    ],
)
def test_only_a_day_and_month_both_12_or_less_are_told_to_set_date_order(text: str, ambiguous: bool) -> None:
    fix = reason_fix(f"'{text}' is not a valid date")
    if ambiguous:
        assert fix == (
            "day and month cannot be told apart (both 12 or less): set dedupe.date_order to dmy or mdy, "
            "or read the layout with strptime(<column>, '%d/%m/%Y')"
        )
    else:  # no order reads it: 31 February is no date either way
        assert (
            fix == "read its layout with strptime(<column>, '<format>'), e.g. strptime(birthday, '%d %b %Y')"
        )


def test_columns_aligned_by_runs_of_spaces_are_told_how_to_split_them(tmp_path: Path) -> None:
    # CDNOW's master file: right-aligned columns, so the spaces between two columns vary
    (tmp_path / "CDNOW_master.txt").write_text(
        "00001 19970101  1  11.77\n00002 19970112  2  89.00\n00003 19970102  2  20.76\n00004 19970101  2 107.31\n"
    )
    source = {
        "name": "cdnow",
        "kind": "transactions",
        "format": "csv",
        "path": "CDNOW_master.txt",
        "options": {"delim": " ", "header": False},
        "columns": {"customer_ref": "column0", "ts": "strptime(column1, '%Y%m%d')", "amount": "column3"},
    }
    [problem] = lines(preflight(config(tmp_path, [source])))
    assert problem.startswith(
        "sources.cdnow: CDNOW_master.txt: cannot read CDNOW_master.txt as csv (encoding utf-8)"
    )
    assert problem.endswith(
        " — columns aligned by runs of spaces (CDNOW's master file) are not one delimiter: read each line as one "
        'column, options: {delim: "\\t", header: false}, and split it in the mappings: '
        "regexp_split_to_array(trim(column0), '\\s+')[1] (README: Layouts a mapping cannot express)"
    )


def test_a_where_that_leaves_out_every_sampled_row_is_a_warning_and_one_that_keeps_some_is_fine(
    tmp_path: Path,
) -> None:
    retail(tmp_path)
    [problem] = preflight(config(tmp_path, [{**SHOP, "where": "Country = 'UK'"}]))
    assert problem.warning
    assert str(problem) == (
        "sources.shop: data/online_retail_2010.csv: where = \"Country = 'UK'\" leaves out every sampled row "
        "(5 of 5) — check the condition against the file's values (a filtered row is not staged, and not an error)"
    )
    assert preflight(config(tmp_path, [{**SHOP, "where": "Quantity > 0"}])) == []  # the refund row left out


def test_a_where_that_is_not_a_condition_says_so(tmp_path: Path) -> None:
    retail(tmp_path)
    [problem] = preflight(config(tmp_path, [{**SHOP, "where": "Country"}]))
    assert not problem.warning
    assert str(problem) == (
        "sources.shop: where = 'Country' is not a condition (it gives VARCHAR, not true or false). Raw columns: "
        "['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', "
        "'Country'] — write a condition over the file's columns"
    )


def test_a_disk_with_less_free_space_than_the_warehouse_takes_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retail(tmp_path)
    pipeline = config(tmp_path, [SHOP])
    Warehouse(pipeline.warehouse_path).close()
    taken = pipeline.warehouse_path.stat().st_size
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=200 * 1024**2))
    [problem] = preflight(pipeline)
    assert problem.warning
    assert str(problem) == (
        f"warehouse: {pipeline.warehouse_path}: 200.0 MiB free on its disk, less than the warehouse's "
        f"{sized(taken)} and 256.0 MiB more: a run writes new blocks before it frees old ones and may stop with "
        "'No space left on device' — free space there or move the warehouse"
    )
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=taken + 256 * 1024**2))
    assert preflight(pipeline) == []  # exactly enough
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=taken + 256 * 1024**2 - 1))
    assert [p.warning for p in preflight(pipeline)] == [True]


def test_sizes_are_said_in_binary_units() -> None:
    assert [sized(n) for n in (0, 1023, 1024, 1536 * 1024, 3.4 * 1024**3, 2048 * 1024**3)] == [
        "0 B",
        "1,023 B",
        "1.0 KiB",
        "1.5 MiB",
        "3.4 GiB",
        "2,048.0 GiB",
    ]


def test_match_columns_are_checked_on_the_rows_the_where_keeps(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "members.csv").write_text(
        "id,kind,joined\nm1,real,2020-01-02\nm2,real,2021-03-04\nm3,test,soon\nm4,test,later\n",
        encoding="utf-8",
    )
    members = {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "data/members.csv",
        "columns": {"source_id": "id"},
        "match_columns": {"joined": "try_strptime(joined, '%Y-%m-%d')"},
    }
    compared = {"dedupe": {"comparisons": [{"name": "joined", "kind": "date"}]}}
    [problem] = preflight(
        config(tmp_path, [members], **compared)
    )  # the test accounts' dates do not read: 2 of 4
    assert problem.field == "match_columns.joined"
    assert "cannot be computed on 2 of 4 sampled rows (50%)" in problem.message
    assert preflight(config(tmp_path, [{**members, "where": "kind = 'real'"}], **compared)) == []


def test_a_where_that_fails_on_every_sampled_row_or_reads_a_misspelt_column_is_a_problem(
    tmp_path: Path,
) -> None:
    retail(tmp_path)
    [problem] = preflight(
        config(tmp_path, [{**SHOP, "where": "strptime(InvoiceDate, '%Y-%m-%d') > date '2010-01-01'"}])
    )
    assert not problem.warning
    assert problem.message.startswith("every sampled row fails (5 of 5), here: where: ")
    assert problem.fix is not None and problem.fix.startswith("the where cannot be evaluated on these rows")
    [problem] = preflight(config(tmp_path, [{**SHOP, "where": "Contry = 'United Kingdom'"}]))
    assert (problem.field, problem.fix) == ("where", "rename in the where: 'Contry' → 'Country'")


def test_the_disk_warning_before_the_first_run_names_the_margin_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retail(tmp_path)
    pipeline = config(tmp_path, [SHOP])
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=100 * 1024**2))
    [problem] = preflight(pipeline)
    assert problem.message.startswith("100.0 MiB free on its disk, less than 256.0 MiB: a run writes")


def test_a_csv_file_whose_last_row_lacks_its_line_break_is_a_warning_as_when_a_run_loads_it(
    tmp_path: Path,
) -> None:
    # the last row cut short inside its fields, past what the sample and DuckDB's sniffer read (a read that
    # reaches it fails, and says the file may be truncated); the last byte shows it
    rows = "".join(
        f"5{n:05},85123A,HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n" for n in range(30_000)
    )
    retail(tmp_path, rows + "536368,22960,JAM MAKING SET WITH JARS,6,12/1/2010 8:34")
    [problem] = preflight(config(tmp_path, [SHOP]))
    assert problem.warning
    assert str(problem) == (
        "sources.shop: data/online_retail_2010.csv: does not end with a line break: its last row may be cut short "
        "(a file still being written, or copied in part)"
    )
