"""Tests for tasks.extract: small source files written into tmp_path, extracted into a warehouse there."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from tasks.extract import SourceLoad, extract_all
from tasks.extract.encodings import utf8_run
from tasks.extract.readers import UnreadableFiles
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

RUN_ID = "run-1"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_config(folder: Path, sources: list[dict[str, Any]], tz: str = "Asia/Shanghai") -> PipelineConfig:
    path = folder / "pipeline.yaml"
    # these tests look at single bad rows: no source should fail for its share of them
    sources = [{"max_bad_row_share": 1.0, **source} for source in sources]
    data = {"warehouse": "w.duckdb", "timezone": tz, "sources": sources}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path.resolve()


@dataclass
class Extracted:
    """A warehouse after extract_all, and what extract_all returned."""

    wh: Warehouse
    loads: list[SourceLoad]


Extract = Callable[..., Extracted]


@pytest.fixture
def extract(folder: Path) -> Iterator[Extract]:
    opened: list[Warehouse] = []

    def run(sources: list[dict[str, Any]], tz: str = "Asia/Shanghai") -> Extracted:
        config = make_config(folder, sources, tz)
        wh = Warehouse(folder / "w.duckdb", timezone=config.timezone)
        opened.append(wh)
        return Extracted(wh, extract_all(wh, config, RUN_ID))

    yield run
    for wh in opened:
        wh.close()


def test_a_customer_record_is_kept_whatever_its_birth_date(folder: Path, extract: Extract) -> None:
    # public record-linkage sets hold birth dates after today: dedupe leaves them out of matching and the
    # golden record (birth_date_norm), but the record itself is never lost for it
    (folder / "crm").mkdir()
    text = "会员编号,姓名,出生日期\n000123,张三,1990-05-01\n000124,李四,2030-01-01\n000125,王五,0001-01-01\n"
    (folder / "crm" / "members.csv").write_bytes(text.encode("gbk"))
    columns = {"source_id": '"会员编号"', "full_name": '"姓名"', "birth_date": '"出生日期"'}
    run = extract([{**CRM_SOURCE, "columns": columns}])
    assert run.wh.rows("select source_id, birth_date from staging.customers order by source_id") == [
        ("000123", date(1990, 5, 1)),
        ("000124", date(2030, 1, 1)),
        ("000125", date(1, 1, 1)),
    ]
    assert run.wh.count("audit.quarantine") == 0


# ---------------------------------------------------------------------------------------------------------
# encodings and lineage
# ---------------------------------------------------------------------------------------------------------

GB_PEOPLE = [("李娟", "上海"), ("王芳", "北京"), ("陈明", "广州")]
CRM_TEXT = (
    "会员编号,姓名,手机,注册时间\n"
    "000123,张三,13800138000,2026-01-01 10:00:00\n"
    "000124,李四,,2026-01-02 11:00:00\n"
)
CRM_SOURCE = {
    "name": "crm",
    "kind": "customers",
    "format": "csv",
    "path": "crm/*.csv",
    "encoding": "gbk",
    "columns": {
        "source_id": '"会员编号"',
        "full_name": '"姓名"',
        "phone": '"手机"',
        "signup_ts": '"注册时间"',
    },
}


def test_gbk_csv_with_chinese_headers(folder: Path, extract: Extract) -> None:
    (folder / "crm").mkdir()
    path = folder / "crm" / "members.csv"
    path.write_bytes(CRM_TEXT.encode("gbk"))
    run = extract([CRM_SOURCE])
    assert run.loads == [SourceLoad("crm", "customers", 1, 1, 2, 2, 0, 0, "loaded")]
    assert run.wh.rows(
        'select _source, _file, _row, _run_id, "会员编号", "姓名", "手机", "注册时间" '
        "from raw.crm order by _row"
    ) == [
        ("crm", "crm/members.csv", 1, RUN_ID, "000123", "张三", "13800138000", "2026-01-01 10:00:00"),
        ("crm", "crm/members.csv", 2, RUN_ID, "000124", "李四", None, "2026-01-02 11:00:00"),
    ]
    assert run.wh.rows(
        "select source, _file, _row, source_id, full_name, phone, signup_ts, email "
        "from staging.customers order by _row"
    ) == [
        ("crm", "crm/members.csv", 1, "000123", "张三", "13800138000", utc("2026-01-01 02:00:00"), None),
        ("crm", "crm/members.csv", 2, "000124", "李四", None, utc("2026-01-02 03:00:00"), None),
    ]
    assert run.wh.count("audit.quarantine") == 0
    assert run.wh.rows(
        "select run_id, source, kind, files, rows_read, rows_staged, rows_quarantined from audit.extract_log"
    ) == [(RUN_ID, "crm", "customers", 1, 2, 2, 0)]
    assert not (folder / f".extract-{RUN_ID}").exists()  # the transcoded copies are removed


SURVEY_TEXT = (
    "问卷编号,会员编号,提交时间,满意度,意见\n"
    'S1,000123,2026-01-03 09:00:00,5,"好玩, 但是\n有点卡"\n'
    "S2,000124,2026-01-04 09:00:00,3,一般\n"
)
SURVEY_SOURCE = {
    "name": "survey",
    "kind": "feedback",
    "format": "csv",
    "path": "survey.csv",
    "columns": {
        "feedback_id": '"问卷编号"',
        "customer_ref": '"会员编号"',
        "ts": '"提交时间"',
        "score": '"满意度"',
        "text": '"意见"',
    },
}


def test_utf8_bom_csv_with_a_quoted_field_holding_a_comma_and_a_newline(
    folder: Path, extract: Extract
) -> None:
    path = folder / "survey.csv"
    path.write_bytes(b"\xef\xbb\xbf" + SURVEY_TEXT.encode("utf-8"))
    run = extract([SURVEY_SOURCE])
    assert run.loads == [SourceLoad("survey", "feedback", 1, 1, 2, 2, 0, 0, "loaded")]
    # the second record starts on the file's third line, but it is data row 2
    assert run.wh.rows('select _file, _row, "问卷编号", "意见" from raw.survey order by _row') == [
        ("survey.csv", 1, "S1", "好玩, 但是\n有点卡"),
        ("survey.csv", 2, "S2", "一般"),
    ]
    assert run.wh.rows(
        "select source, _file, _row, feedback_id, customer_ref, ts, score, text "
        "from staging.feedback order by _row"
    ) == [
        ("survey", "survey.csv", 1, "S1", "000123", utc("2026-01-03 01:00:00"), 5.0, "好玩, 但是\n有点卡"),
        ("survey", "survey.csv", 2, "S2", "000124", utc("2026-01-04 01:00:00"), 3.0, "一般"),
    ]


def test_rows_are_numbered_per_file(folder: Path, extract: Extract) -> None:
    (folder / "crm").mkdir()
    first, second = folder / "crm" / "a.csv", folder / "crm" / "b.csv"
    first.write_bytes(CRM_TEXT.encode("gbk"))
    second.write_bytes("会员编号,姓名,手机,注册时间\n000125,王五,,2026-01-05 08:00:00\n".encode("gbk"))
    run = extract([CRM_SOURCE])
    assert run.loads == [SourceLoad("crm", "customers", 2, 2, 3, 3, 0, 0, "loaded")]
    assert run.wh.rows("select _file, _row, source_id from staging.customers order by _file, _row") == [
        ("crm/a.csv", 1, "000123"),
        ("crm/a.csv", 2, "000124"),
        ("crm/b.csv", 1, "000125"),
    ]


def test_gbk_file_declared_as_utf8_is_a_data_error(folder: Path, extract: Extract) -> None:
    (folder / "crm").mkdir()
    path = folder / "crm" / "members.csv"
    path.write_bytes(CRM_TEXT.encode("gbk"))
    with pytest.raises(DataError) as caught:
        extract([{**CRM_SOURCE, "encoding": "utf-8"}])
    assert str(caught.value).startswith("source 'crm': cannot read crm/members.csv as csv (encoding utf-8): ")


def members_file(folder: Path, data: bytes) -> Path:
    """crm/members.csv holding data (an id and a name column, bytes in whatever encoding the test writes)."""
    (folder / "crm").mkdir()
    path = folder / "crm" / "members.csv"
    path.write_bytes(data)
    return path


def id_and_name(encoding: str) -> dict:
    """The crm source over members_file's id and name columns, declared in encoding."""
    return {**CRM_SOURCE, "encoding": encoding, "columns": {"source_id": "id", "full_name": "name"}}


@pytest.mark.parametrize("encoding", ["gbk", "big5"])
def test_utf8_file_declared_as_a_chinese_encoding_is_a_data_error(
    folder: Path, extract: Extract, encoding: str
) -> None:
    # GBK would decode this UTF-8 text without an error, into mojibake (张三 -> 寮犱笁): caught before that
    path = members_file(folder, "id,name\nm1,张三\nm2,中\n".encode())
    with pytest.raises(DataError) as caught:
        extract([id_and_name(encoding)])
    assert str(caught.value) == (
        f"{path}: declared {encoding} but its text is UTF-8 (multi-byte UTF-8 sequences throughout); "
        "set the source's `encoding` to utf-8"
    )


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_one_utf8_row_in_a_gbk_file_is_named_by_line_not_staged_as_mojibake(
    folder: Path, extract: Extract, encoding: str
) -> None:
    # the file is GBK throughout (the file-wide check passes it) but for one row pasted from a UTF-8 program
    rows = [f"m{i},{name},{city}".encode(encoding) for i, (name, city) in enumerate(GB_PEOPLE * 200)]
    rows.insert(150, "m-x,张三,北京".encode())
    path = members_file(folder, b"id,name,city\n" + b"\n".join(rows) + b"\n")
    with pytest.raises(DataError) as caught:
        extract([id_and_name(encoding)])
    assert str(caught.value) == (
        f"{path}: line 152 holds UTF-8 text in a file declared {encoding}: '张三' would be read as '寮犱笁' (a row "
        f"written by another program). Convert that line to {encoding}, or the file to UTF-8 and set the source's "
        "`encoding` to utf-8."
    )
    # GB text whose bytes happen to form UTF-8 Chinese (涓颁袱 is the bytes of 丰两) is read as declared: it is
    # everyday text as declared (GB2312), which 寮犱笁 is not
    assert utf8_run("m1,涓颁袱,北京".encode(encoding), encoding) is None
    assert utf8_run("m1,张三,北京".encode(), encoding) == (3, "张三", "寮犱笁")


@pytest.mark.parametrize("encoding", ["gbk", "big5"])
def test_bytes_that_no_declared_encoding_reads_are_named_by_line_and_byte(
    folder: Path, extract: Extract, encoding: str
) -> None:
    # 0xFF starts no character in UTF-8, GBK or Big5
    path = members_file(folder, b"id,name\nm1,abc\nm2,\xff\n")
    with pytest.raises(DataError) as caught:
        extract([id_and_name(encoding)])
    offset = len(b"id,name\nm1,abc\nm2,")
    bad_bytes = repr(b"\xff\n")
    assert str(caught.value) == (
        f"{path}: cannot be read as {encoding} (line 3, byte {offset}: {bad_bytes}). "
        "Set the source's `encoding` to the file's real encoding (e.g. gb18030, big5, utf-8)."
    )


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_workbook_read_as_csv_is_named_a_workbook(folder: Path, extract: Extract, encoding: str) -> None:
    # the UCI Online Retail II download (an .xlsx) under a CSV source's config: not an encoding to guess
    members_file(folder, b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb8\xe4")
    with pytest.raises(DataError) as caught:
        extract([id_and_name(encoding)])
    assert str(caught.value) == (
        "source 'crm': crm/members.csv is no csv: it is no text but a ZIP archive, as an Excel .xlsx "
        "workbook is: if it is one, set the source's `format` to xlsx"
    )


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_one_pound_sign_in_a_western_file_is_enough_for_the_cp1252_hint(
    folder: Path, extract: Extract, encoding: str
) -> None:
    # a shop's file with one non-ASCII character in 2,000 lines: £ in cp1252 is no UTF-8 and no GB text
    rows = "".join(f"m{i},plain item\n" for i in range(2000)) + "m9,Gift Voucher \xa310.00\n"
    members_file(folder, b"id,name\n" + rows.encode("latin-1"))
    with pytest.raises(DataError) as caught:
        extract([id_and_name(encoding)])
    assert "cp1252" in str(caught.value) and "gb18030, big5" not in str(caught.value)
    assert "line 2002" in str(caught.value)


def test_failed_extract_leaves_no_tables_and_no_work_files(folder: Path) -> None:
    (folder / "crm").mkdir()
    (folder / "crm" / "members.csv").write_bytes("会员编号,姓名\nm2,中\n".encode())
    survey = {
        **SURVEY_SOURCE,
        "path": "crm/*.csv",
        "columns": {"customer_ref": '"会员编号"', "ts": "'2026-01-01 10:00'"},
    }
    crm = {**CRM_SOURCE, "columns": {"source_id": '"会员编号"', "full_name": '"姓名"'}}
    config = make_config(folder, [survey, crm])  # survey loads, then crm fails: nothing of either is kept
    with Warehouse(folder / "w.duckdb") as wh:
        with pytest.raises(DataError, match="declared gbk but its text is UTF-8"):
            extract_all(wh, config, RUN_ID)
        assert (
            wh.rows(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('raw', 'staging', 'audit') order by all"
            )
            == []
        )
    assert not (folder / f".extract-{RUN_ID}").exists()


# ---------------------------------------------------------------------------------------------------------
# quarantine
# ---------------------------------------------------------------------------------------------------------

PAY_SOURCE = {
    "name": "pay",
    "kind": "transactions",
    "format": "csv",
    "path": "pay.csv",
    "columns": {
        "txn_id": "txn_id",
        "order_id": "order_id",
        "customer_ref": "member_id",
        "email": "email",
        "ts": "created_at",
        "amount": "amount",
        "status": "case upper(status) when 'SUCCESS' then 'paid' when 'REFUND' then 'refunded' "
        "else status end",
    },
}
PAY_TEXT = """txn_id,order_id,member_id,email,created_at,amount,status
T1,O1,000123,,2026-01-01 10:00:00,100.00,SUCCESS
T2,O2,000123,,2026-01-01 11:00:00,12.5块,SUCCESS
T3,O3,000124,,,30.00,SUCCESS
T4,O4,000124,,2099-01-01 10:00:00,30.00,SUCCESS
T5,O5,000125,,2026-01-02 10:00:00,30.00,Chargeback
T1,O1,000123,,2026-01-01 10:00:00,100.00,SUCCESS
T6,O6,,,2026-01-02 10:00:00,30.00,SUCCESS
T7,O1,000123,,2026-01-03 10:00:00,-20.00,REFUND
T8,O8,,,2026-01-02 10:00:00,abc,SUCCESS
T9,O9,,a@x.com,2026-01-02 10:00:00,abc,SUCCESS
T9,O9,,a@x.com,2026-01-02 10:00:00,9.90,SUCCESS
T9,O9,,a@x.com,2026-01-02 10:00:00,9.90,SUCCESS
"""


def test_bad_rows_go_to_quarantine_with_their_reason(folder: Path, extract: Extract) -> None:
    path = folder / "pay.csv"
    path.write_text(PAY_TEXT, encoding="utf-8")
    run = extract([PAY_SOURCE])
    assert run.loads == [SourceLoad("pay", "transactions", 1, 1, 12, 4, 6, 2, "loaded", 1)]
    assert run.wh.rows(
        "select source, _row, txn_id, order_id, customer_ref, email, ts, amount, status "
        "from staging.transactions order by _row"
    ) == [
        ("pay", 1, "T1", "O1", "000123", None, utc("2026-01-01 02:00:00"), Decimal("100.00"), "paid"),
        ("pay", 8, "T7", "O1", "000123", None, utc("2026-01-03 02:00:00"), Decimal("-20.00"), "refunded"),
        ("pay", 11, "T9", "O9", None, "a@x.com", utc("2026-01-02 02:00:00"), Decimal("9.90"), "paid"),
    ]
    assert run.wh.rows(
        "select run_id, source, file, row_number, reason from audit.quarantine order by row_number"
    ) == [
        (RUN_ID, "pay", "pay.csv", 2, "field amount: '12.5块' is not a valid decimal(18,2)"),
        (RUN_ID, "pay", "pay.csv", 3, "field ts: missing"),
        (RUN_ID, "pay", "pay.csv", 4, "field ts: 2099-01-01 10:00:00+08 is in the future"),
        (
            RUN_ID,
            "pay",
            "pay.csv",
            5,
            "field status: 'chargeback' is not one of paid, refunded, cancelled, failed, pending",
        ),
        (
            RUN_ID,
            "pay",
            "pay.csv",
            9,
            "field amount: 'abc' is not a valid decimal(18,2); "
            "no customer reference: customer_ref, email all empty",
        ),
        # the first T9 is quarantined for its amount, so the first good T9 is the one kept
        (RUN_ID, "pay", "pay.csv", 10, "field amount: 'abc' is not a valid decimal(18,2)"),
    ]
    # rows 6 and 12 repeat rows 1 and 11 value for value: dropped, and recorded
    assert run.wh.rows(
        "select file, row_number, id, kept_file, kept_row_number from audit.duplicates order by row_number"
    ) == [("pay.csv", 6, "T1", "pay.csv", 1), ("pay.csv", 12, "T9", "pay.csv", 11)]
    assert run.wh.rows(
        "select file, rows_read, rows_staged, rows_quarantined, duplicates_dropped from audit.load_audit"
    ) == [("pay.csv", 12, 4, 6, 2)]
    record = json.loads(run.wh.scalar("select record from audit.quarantine where row_number = 2"))
    assert {k: record[k] for k in ("_source", "_row", "_run_id", "txn_id", "amount", "status")} == {
        "_source": "pay",
        "_row": 2,
        "_run_id": RUN_ID,
        "txn_id": "T2",
        "amount": "12.5块",
        "status": "SUCCESS",
    }


def test_counts_add_up_per_source_and_a_rerun_replaces(folder: Path, extract: Extract) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    (folder / "survey.csv").write_bytes(b"\xef\xbb\xbf" + SURVEY_TEXT.encode("utf-8"))
    first = extract([PAY_SOURCE, SURVEY_SOURCE])
    assert first.loads == [
        SourceLoad("pay", "transactions", 1, 1, 12, 4, 6, 2, "loaded", 1),
        SourceLoad("survey", "feedback", 1, 1, 2, 2, 0, 0, "loaded"),
    ]
    first.wh.close()
    second = extract([PAY_SOURCE, SURVEY_SOURCE])  # nothing new: nothing read, nothing changes
    assert second.loads == [
        SourceLoad("pay", "transactions", 1, 0, 0, 0, 0, 0, "unchanged"),
        SourceLoad("survey", "feedback", 1, 0, 0, 0, 0, 0, "unchanged"),
    ]
    assert second.wh.rows(
        "select source, count(*) from (select source from staging.transactions union all "
        "select source from staging.unattributed_transactions union all "
        "select source from staging.feedback union all select source from audit.quarantine) "
        "group by all order by 1"
    ) == [("pay", 10), ("survey", 2)]
    assert second.wh.scalar("select count(*) from audit.extract_log") == 4


def test_required_field_of_customers(folder: Path, extract: Extract) -> None:
    (folder / "crm").mkdir()
    (folder / "crm" / "m.csv").write_bytes(
        "会员编号,姓名,手机,注册时间\n ,张三,,\n000124,李四,,\n".encode("gbk")
    )
    run = extract([CRM_SOURCE])
    assert run.loads == [SourceLoad("crm", "customers", 1, 1, 2, 1, 1, 0, "loaded")]
    assert run.wh.rows("select row_number, reason from audit.quarantine") == [(1, "field source_id: missing")]


# ---------------------------------------------------------------------------------------------------------
# timestamps
# ---------------------------------------------------------------------------------------------------------


def events_source(name: str, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "events",
        "format": "csv",
        "path": path,
        "columns": {"event_id": "id", "customer_ref": "member", "ts": "ts", "event_type": "'session'"},
        **extra,
    }


def test_timestamps_without_offset_are_read_in_the_source_time_zone(folder: Path, extract: Extract) -> None:
    (folder / "app.csv").write_text(
        "id,member,ts\n"
        "E1,m1,2026-01-01 10:00:00\n"
        "E2,m1,2026-01-01 10:00:00+00:00\n"
        "E3,m1,2026-01-01T10:00:00Z\n"
        "E4,m1,2026-01-01 10:00:00-05\n",
        encoding="utf-8",
    )
    (folder / "web.csv").write_text(
        "id,member,ts\nW1,m1,2026-01-01 10:00:00\nW2,m1,2026-01-01 10:00:00+08:00\n", encoding="utf-8"
    )
    run = extract([events_source("app", "app.csv"), events_source("web", "web.csv", timezone="UTC")])
    assert run.wh.rows("select event_id, ts from staging.events order by event_id") == [
        ("E1", utc("2026-01-01 02:00:00")),  # Shanghai local time
        ("E2", utc("2026-01-01 10:00:00")),
        ("E3", utc("2026-01-01 10:00:00")),
        ("E4", utc("2026-01-01 15:00:00")),
        ("W1", utc("2026-01-01 10:00:00")),  # the source's own time zone
        ("W2", utc("2026-01-01 02:00:00")),
    ]


def test_pipeline_time_zone_applies_to_naive_timestamps(folder: Path, extract: Extract) -> None:
    (folder / "app.csv").write_text("id,member,ts\nE1,m1,2026-07-01 10:00:00\n", encoding="utf-8")
    run = extract([events_source("app", "app.csv")], tz="Europe/Berlin")
    assert run.wh.rows("select event_id, ts from staging.events") == [("E1", utc("2026-07-01 08:00:00"))]


def test_date_only_value_is_read_in_the_source_time_zone(folder: Path, extract: Extract) -> None:
    (folder / "web.csv").write_text("id,member,ts\nW1,m1,2026-01-01\n", encoding="utf-8")
    run = extract([events_source("web", "web.csv", timezone="UTC")])
    assert run.wh.rows("select event_id, ts from staging.events") == [("W1", utc("2026-01-01 00:00:00"))]


# ---------------------------------------------------------------------------------------------------------
# JSON Lines and Parquet
# ---------------------------------------------------------------------------------------------------------


SOCIAL_SOURCE = {
    "name": "social",
    "kind": "events",
    "format": "jsonl",
    "path": "social.jsonl",
    "columns": {"event_id": "event_id", "customer_ref": "member_id", "ts": "ts", "event_type": "action"},
}


@pytest.mark.parametrize(
    ("line", "kind"), [('["J2", "000124", "like"]', "an array"), ("7", "a number"), ('"J2"', "a string")]
)
def test_a_jsonl_line_that_is_not_an_object_is_named(
    folder: Path, extract: Extract, line: str, kind: str
) -> None:
    # DuckDB reads such a file as one column `json`: every mapped column would look missing
    row = {"event_id": "J1", "member_id": "000123", "ts": "2026-01-01 10:00:00", "action": "like"}
    (folder / "social.jsonl").write_text(
        f"{json.dumps(row)}\n\n{line}\n{json.dumps(row)}\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as caught:
        extract([SOCIAL_SOURCE])
    assert str(caught.value) == (
        f"source 'social': cannot read social.jsonl as jsonl: line 3 is {kind}, not an object: each line of a JSON "
        "Lines file is one row, an object {…}"
    )


def test_jsonl_with_nested_fields(folder: Path, extract: Extract) -> None:
    path = folder / "social.jsonl"
    rows = [
        {
            "event_id": "J1",
            "ts": "2026-01-01 10:00:00",
            "action": "like",
            "user": {"member_id": "000123", "device_id": "dev1"},
        },
        {
            "event_id": "J2",
            "ts": "2026-01-01 12:00:00+08:00",
            "action": "分享",
            "user": {"member_id": "000124", "device_id": None},
        },
        {
            "event_id": "J3",
            "ts": "2026-01-02 09:30:00",
            "action": "like",
            "user": {"member_id": None, "device_id": None},
        },
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    source = {
        "name": "social",
        "kind": "events",
        "format": "jsonl",
        "path": "social.jsonl",
        "columns": {
            "event_id": "event_id",
            "customer_ref": "user.member_id",
            "device_id": "user.device_id",
            "ts": "ts",
            "event_type": "action",
        },
    }
    run = extract([source])
    assert run.loads == [SourceLoad("social", "events", 1, 1, 3, 3, 0, 0, "loaded", 1)]
    assert run.wh.rows(
        "select source, _file, _row, event_id, customer_ref, device_id, ts, event_type "
        "from staging.events order by _row"
    ) == [
        ("social", "social.jsonl", 1, "J1", "000123", "dev1", utc("2026-01-01 02:00:00"), "like"),
        ("social", "social.jsonl", 2, "J2", "000124", None, utc("2026-01-01 04:00:00"), "分享"),
    ]
    assert run.wh.rows("select row_number, reason from audit.quarantine") == []
    # the row of nobody is staged apart (unattributed), not quarantined
    assert run.wh.rows("select _row, event_id from staging.unattributed_events") == [(3, "J3")]


def test_parquet_with_file_row_number_lineage(folder: Path, extract: Extract) -> None:
    (folder / "game").mkdir()
    first, second = folder / "game" / "a.parquet", folder / "game" / "b.parquet"
    pl.DataFrame(
        {
            "session_id": ["G1", "G2"],
            "member_id": ["000123", "000124"],
            "start_time": [datetime(2026, 1, 1, 10, 0), datetime(2026, 1, 1, 11, 0)],  # naive: Shanghai time
            "game_type": ["麻将", "斗地主"],
            "duration_s": [600, 120],
        }
    ).write_parquet(first)
    pl.DataFrame(
        {
            "session_id": ["G3"],
            "member_id": ["000125"],
            "start_time": [datetime(2026, 1, 2, 10, 0)],
            "game_type": ["麻将"],
            "duration_s": [60],
        }
    ).write_parquet(second)
    source = {
        "name": "game",
        "kind": "events",
        "format": "parquet",
        "path": "game/*.parquet",
        "columns": {
            "event_id": "session_id",
            "customer_ref": "member_id",
            "ts": "start_time",
            "event_type": "'session'",
            "category": "game_type",
            "duration_s": "duration_s",
        },
    }
    run = extract([source])
    assert run.loads == [SourceLoad("game", "events", 2, 2, 3, 3, 0, 0, "loaded")]
    assert run.wh.rows("select _source, _file, _row, session_id from raw.game order by _file, _row") == [
        ("game", "game/a.parquet", 1, "G1"),
        ("game", "game/a.parquet", 2, "G2"),
        ("game", "game/b.parquet", 1, "G3"),
    ]
    assert run.wh.rows(
        "select _file, _row, event_id, customer_ref, ts, event_type, category, duration_s "
        "from staging.events order by _file, _row"
    ) == [
        ("game/a.parquet", 1, "G1", "000123", utc("2026-01-01 02:00:00"), "session", "麻将", 600.0),
        ("game/a.parquet", 2, "G2", "000124", utc("2026-01-01 03:00:00"), "session", "斗地主", 120.0),
        ("game/b.parquet", 1, "G3", "000125", utc("2026-01-02 02:00:00"), "session", "麻将", 60.0),
    ]


def test_parquet_timestamps_with_a_time_zone_keep_their_instant(folder: Path, extract: Extract) -> None:
    pl.DataFrame(
        {
            "session_id": ["G1"],
            "member_id": ["000123"],
            "start_time": [datetime(2026, 1, 1, 10, 0, tzinfo=UTC)],
        }
    ).write_parquet(folder / "g.parquet")
    source = {
        "name": "game",
        "kind": "events",
        "format": "parquet",
        "path": "g.parquet",
        "timezone": "America/New_York",  # only for values without an offset
        "columns": {"event_id": "session_id", "customer_ref": "member_id", "ts": "start_time"},
    }
    run = extract([source])
    assert run.wh.rows("select event_id, ts from staging.events") == [("G1", utc("2026-01-01 10:00:00"))]


# ---------------------------------------------------------------------------------------------------------
# mapping and reader errors
# ---------------------------------------------------------------------------------------------------------


def test_no_matching_files_is_a_data_error(folder: Path, extract: Extract) -> None:
    with pytest.raises(DataError) as caught:
        extract([PAY_SOURCE])
    assert str(caught.value) == f"source 'pay': no files match {folder / 'pay.csv'}"


def test_a_loaded_file_that_becomes_a_broken_link_stops_the_load_and_keeps_its_rows(
    folder: Path, extract: Extract
) -> None:
    # a file that cannot be read is not a file gone: a load that took it so would drop its rows from history
    header, t1 = PAY_TEXT.splitlines()[:2]
    (folder / "pay-1.csv").write_text(f"{header}\n{t1}\n", encoding="utf-8")
    (folder / "pay-2.csv").write_text(f"{header}\n{t1.replace('T1,O1', 'T2,O2')}\n", encoding="utf-8")
    source = {**PAY_SOURCE, "path": "pay-*.csv"}
    first = extract([source])
    assert first.wh.rows("select txn_id from staging.transactions order by 1") == [("T1",), ("T2",)]
    (folder / "pay-2.csv").unlink()
    (folder / "pay-2.csv").symlink_to(folder / "mounted" / "pay-2.csv")  # a share that is not mounted
    with pytest.raises(UnreadableFiles) as caught:
        extract([source])
    assert str(caught.value) == (
        f"source 'pay': pay-2.csv (a link to {folder}/mounted/pay-2.csv, which does not exist): the source's path "
        "matches it but it cannot be read. Make it readable, or move it out of the source's folder if its rows "
        "are to leave the warehouse"
    )
    assert first.wh.rows("select txn_id from staging.transactions order by 1") == [("T1",), ("T2",)]
    assert first.wh.rows("select file from audit.load_state order by 1") == [("pay-1.csv",), ("pay-2.csv",)]


def test_a_folder_named_like_the_files_is_not_passed_over(folder: Path, extract: Extract) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    (folder / "pay-spark.csv").mkdir()  # a dataset written as a folder of part files
    (folder / "pay-spark.csv" / "part-0.csv").write_text(PAY_TEXT, encoding="utf-8")
    with pytest.raises(UnreadableFiles) as caught:
        extract([{**PAY_SOURCE, "path": "pay*.csv"}])
    assert str(caught.value) == (
        "source 'pay': pay-spark.csv (a folder: to read the files in it, the path must reach them "
        "(pay-spark.csv/*.csv)): the source's path matches it but it cannot be read. Make it readable, or move it "
        "out of the source's folder if its rows are to leave the warehouse"
    )
    # a path whose last part names no extension passes folders over (pay.csv is read; the folder is not a file)
    assert extract([{**PAY_SOURCE, "path": "pay*", "max_bad_row_share": 1.0}]).loads[0].files == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions")
def test_a_file_this_user_cannot_read_stops_the_load(folder: Path, extract: Extract) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    (folder / "pay.csv").chmod(0)
    with pytest.raises(UnreadableFiles) as caught:
        extract([PAY_SOURCE])
    assert str(caught.value).startswith("source 'pay': pay.csv (not readable by this user): ")


def test_mapping_on_a_missing_column_names_the_source_and_field(folder: Path, extract: Extract) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    columns = {**PAY_SOURCE["columns"], "amount": "price * quantity"}
    with pytest.raises(DataError) as caught:
        extract([{**PAY_SOURCE, "columns": columns}])
    assert str(caught.value) == (
        "source 'pay': file pay.csv has no column 'price', 'quantity' used by the mapping "
        "(its columns: ['txn_id', 'order_id', 'member_id', 'email', 'created_at', 'amount', 'status'])"
    )


def test_a_placeholder_time_before_1900_or_at_the_unix_epoch_is_quarantined(
    folder: Path, extract: Extract
) -> None:
    # the source's time zone is Asia/Shanghai: 1970-01-01 08:00 there is 00:00 UTC, the epoch a 0 stands for
    text = (
        "txn_id,order_id,member_id,email,created_at,amount,status\n"
        "T1,O1,000123,,0001-01-01 00:00:00,1.00,SUCCESS\n"
        "T2,O2,000123,,1900-01-01 00:00:00,1.00,SUCCESS\n"
        "T3,O3,000123,,1969-12-31 23:00:00,1.00,SUCCESS\n"
        "T4,O4,000123,,1970-01-01 00:00:00,1.00,SUCCESS\n"
        "T5,O5,000123,,1970-01-01 08:00:00,1.00,SUCCESS\n"
        "T6,O6,000123,,1970-01-01T00:00:00Z,1.00,SUCCESS\n"
        "T7,O7,000123,,1970-01-01 08:00:01,1.00,SUCCESS\n"
    )
    (folder / "pay.csv").write_text(text, encoding="utf-8")
    run = extract([{**PAY_SOURCE, "max_bad_row_share": 1.0}])
    assert run.wh.rows("select txn_id from staging.transactions order by txn_id") == [("T3",), ("T7",)]
    assert [
        reason for (reason,) in run.wh.rows("select reason from audit.quarantine order by row_number")
    ] == [
        "field ts: 0001-01-01 00:00:00+08:05 is before 1900-01-02 (a placeholder?)",
        "field ts: 1900-01-01 00:00:00+08:05 is before 1900-01-02 (a placeholder?)",
        "field ts: 1970-01-01 00:00:00+08 is the Unix epoch (a null written as 0?)",
        "field ts: 1970-01-01 08:00:00+08 is the Unix epoch (a null written as 0?)",
        "field ts: 1970-01-01 08:00:00+08 is the Unix epoch (a null written as 0?)",
    ]


def test_mapping_that_fails_on_the_data_quarantines_its_rows_naming_the_value(
    folder: Path, extract: Extract
) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    columns = {**PAY_SOURCE["columns"], "order_id": "cast(order_id as integer)"}
    with pytest.raises(DataError) as caught:
        extract([{**PAY_SOURCE, "columns": columns, "max_bad_row_share": 0.05}])
    # the cast fails on every row: each row is quarantined (not the run stopped at the first), and
    # the share of bad rows fails the load, quoting the reasons with their values masked
    assert str(caught.value) == (
        "source 'pay': 12 of 12 rows (100.0%) failed checks, more than max_bad_row_share 5.0%; nothing was "
        "loaded or published. Most frequent: (1) 5 x field order_id: cast(order_id as integer) fails for "
        "order_id '...' (first: pay.csv row 1); (2) 2 x field order_id: cast(order_id as integer) fails for "
        "order_id '...'; field amount: '...' is not a valid decimal(18,2) (first: pay.csv row 2); (3) 1 x field "
        "order_id: cast(order_id as integer) fails for order_id '...'; field amount: '...' is not a valid "
        "decimal(18,2); no customer reference: customer_ref, email all empty (first: pay.csv row 9). Most rows "
        "failing points at the mapping more than at the data: check the expressions named. To load the good "
        "rows and keep the bad ones in audit.quarantine with their values, raise sources.pay.max_bad_row_share"
    )  # rows 2 (T2: 12.5块) and 9 (T8: abc, no customer) are the first of their reasons


def test_a_failing_mapping_is_quoted_with_its_own_texts_and_the_data_masked(
    folder: Path, extract: Extract
) -> None:
    # US dates read day first: the strptime format is the config's (shown), the dates are data (masked)
    rows = "".join(f"T{i},O{i},M{i},,12/{13 + i}/2009 08:26,{i}.00,SUCCESS\n" for i in range(3))
    (folder / "pay.csv").write_text(PAY_TEXT.splitlines(keepends=True)[0] + rows, encoding="utf-8")
    ts = "strptime(created_at, '%d/%m/%Y %H:%M')"
    with pytest.raises(DataError) as caught:
        extract([{**PAY_SOURCE, "columns": {**PAY_SOURCE["columns"], "ts": ts}, "max_bad_row_share": 0.05}])
    assert str(caught.value) == (
        "source 'pay': 3 of 3 rows (100.0%) failed checks, more than max_bad_row_share 5.0%; nothing was loaded "
        f"or published. Most frequent: (1) 3 x field ts: {ts} fails for created_at '...' (first: pay.csv row 1). "
        "Most rows failing points at the mapping more than at the data: check the expressions named. To load "
        "the good rows and keep the bad ones in audit.quarantine with their values, raise "
        "sources.pay.max_bad_row_share"
    )


def test_mapping_that_fails_on_one_cell_quarantines_that_row(folder: Path, extract: Extract) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    columns = {**PAY_SOURCE["columns"], "order_id": "cast(replace(order_id, 'O', '') as integer)"}
    text = PAY_TEXT.replace("T5,O5,", "T5,Ox5,")
    (folder / "pay.csv").write_text(text, encoding="utf-8")
    run = extract([{**PAY_SOURCE, "columns": columns}])
    assert run.loads == [SourceLoad("pay", "transactions", 1, 1, 12, 4, 6, 2, "loaded", 1)]
    assert run.wh.rows("select order_id from staging.transactions order by _row") == [("1",), ("1",), ("9",)]
    assert run.wh.rows("select field, reason from audit.quarantine where row_number = 5") == [
        (
            "order_id",
            "field order_id: cast(replace(order_id, 'O', '') as integer) fails for order_id 'Ox5'; "
            "field status: 'chargeback' is not one of paid, refunded, cancelled, failed, pending",
        )
    ]


def test_mapping_that_does_not_bind_names_the_source_the_field_and_what_to_do(
    folder: Path, extract: Extract
) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    columns = {**PAY_SOURCE["columns"], "amount": "round(amount, 2)"}
    with pytest.raises(DataError) as caught:
        extract([{**PAY_SOURCE, "columns": columns}])
    assert str(caught.value) == (
        "source 'pay': columns.amount = 'round(amount, 2)' fails: Binder Error: No function matches the given "
        "name and argument types 'round(VARCHAR, INTEGER_LITERAL)'. You might need to add explicit type "
        "casts. CSV and Excel columns are text, read as numbers only in arithmetic (+ - * /) and in "
        "comparisons with a number: elsewhere write cast(<column> as double). Raw columns: "
        "['txn_id', 'order_id', 'member_id', 'email', 'created_at', 'amount', 'status']"
    )


def test_unsupported_reader_option_is_a_data_error(folder: Path, extract: Extract) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        extract([{**PAY_SOURCE, "options": {"ignore_errors": True}}])
    assert str(caught.value) == (
        "source 'pay': reader option 'ignore_errors' is not supported for csv "
        "(allowed: comment, delim, escape, header, max_line_size, new_line, nullstr, quote, sep, skip)"
    )


def test_supported_reader_option_is_passed_to_duckdb(folder: Path, extract: Extract) -> None:
    (folder / "pay.csv").write_text(PAY_TEXT.replace(",", ";"), encoding="utf-8")
    run = extract([{**PAY_SOURCE, "options": {"delim": ";"}}])
    assert run.loads == [SourceLoad("pay", "transactions", 1, 1, 12, 4, 6, 2, "loaded", 1)]
