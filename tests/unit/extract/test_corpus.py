"""Bad-input corpus: each file in tests/corpus/ (or generated into tmp_path) through extract_all.

Every case names one input file, the source config that reads it, and the exact outcome:
`Loaded` (staged rows and counts), `Quarantined` (also the exact audit.quarantine rows) or `Error`
(a DataError with its exact message, or a precise pattern of it). Where the product does the wrong
thing today, the case states the right outcome and carries `bug=...`: it runs as a strict xfail, so
fixing the product turns it into a failure that says "remove the marker".

The corpus files are byte-exact (encodings, BOM, CRLF, NUL): tests/corpus/.gitattributes keeps git
from converting them. Tests copy a file into tmp_path and never write into the repository.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from tasks.extract import SourceLoad, extract_all
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

CORPUS = Path(__file__).resolve().parent / "corpus"
RUN_ID = "corpus-run"
SOURCE = "corpus"
TZ = "Asia/Shanghai"
MAX_CORPUS_FILE = 50 * 1024


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_config(folder: Path, sources: list[dict[str, Any]], tz: str = TZ) -> PipelineConfig:
    """A validated pipeline config over folder (as tests/test_extract.py builds it)."""
    path = folder / "pipeline.yaml"
    # each case looks at single bad rows: no source should fail for its share of them
    sources = [{"max_bad_row_share": 1.0, **source} for source in sources]
    data = {"warehouse": "w.duckdb", "timezone": tz, "sources": sources}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_config(path)


# ---------------------------------------------------------------------------------------------------------
# outcomes
# ---------------------------------------------------------------------------------------------------------

Reason = str | re.Pattern[str]  # exact text, or a pattern where the right wording is the fixer's choice


@dataclass(frozen=True)
class Loaded:
    """Every row read is staged or dropped as an exact duplicate; nothing is quarantined."""

    fields: tuple[str, ...]  # SQL over staging.<kind>, compared after `_row`
    staged: list[tuple]  # (_row, *fields), ordered by _row
    counts: tuple[int, int, int, int]  # rows_read, rows_staged, rows_quarantined, duplicates_dropped
    duplicates: list[tuple[int, str, int]] = field(default_factory=list)  # (row_number, id, kept_row_number)
    raw_columns: list[str] | None = None  # the source's own columns in raw, when they matter
    # (row_number, field, reason) of audit.quarantine, ordered by row_number
    quarantine: list[tuple[int, str | None, Reason]] = field(default_factory=list)
    unattributed: int = 0  # of the staged rows: no customer reference (staging.unattributed_<kind>)


@dataclass(frozen=True)
class Quarantined(Loaded):
    """Like Loaded, and some rows go to audit.quarantine with an exact field and reason."""


@dataclass(frozen=True)
class Error:
    """extract_all raises a DataError; message exact (`{dir}` is the input folder) or a pattern."""

    message: Reason


Outcome = Loaded | Quarantined | Error


@dataclass(frozen=True)
class Case:
    """One corpus input, the source config that reads it, and what must come out."""

    id: str
    file: str  # a file in tests/corpus/, or the name `make` writes
    source: dict[str, Any]  # kind, format, columns, and optionally encoding, options, timezone
    outcome: Outcome
    bug: str | None = None  # the product is wrong today: strict xfail with this reason
    make: Callable[[Path], None] | None = None  # generates the file instead of copying it


# ---------------------------------------------------------------------------------------------------------
# source configs
# ---------------------------------------------------------------------------------------------------------

CUSTOMERS = {"kind": "customers", "format": "csv", "columns": {"source_id": "id", "full_name": "name"}}
CUSTOMERS_CITY = {**CUSTOMERS, "columns": {**CUSTOMERS["columns"], "city": "city"}}
CN_CUSTOMERS = {
    "kind": "customers",
    "format": "csv",
    "columns": {"source_id": '"会员编号"', "full_name": '"姓名"'},
}
PAYMENTS = {
    "kind": "transactions",
    "format": "csv",
    "columns": {"txn_id": "id", "customer_ref": "member", "ts": "ts", "amount": "amount"},
}
PAYMENTS_STATUS = {**PAYMENTS, "columns": {**PAYMENTS["columns"], "status": "status"}}
EVENTS = {
    "kind": "events",
    "format": "jsonl",
    "columns": {"event_id": "id", "customer_ref": "member", "ts": "ts", "event_type": "type"},
}
TS_FORMATS = (
    "coalesce("
    "try_strptime(ts, '%Y-%m-%d %H:%M:%S'), "
    "try_strptime(ts, '%Y/%m/%d %H:%M'), "
    "try_strptime(ts, '%d/%m/%Y %H:%M'), "
    "try_strptime(ts, '%Y%m%d'), "
    "try_strptime(ts, '%Y年%-m月%-d日'))"
)
MIXED_DATES = {**PAYMENTS, "columns": {**PAYMENTS["columns"], "ts": TS_FORMATS}}
CLEAN_AMOUNT = {
    **PAYMENTS,
    "columns": {**PAYMENTS["columns"], "amount": r"regexp_replace(amount, '[¥￥,\s]', '', 'g')"},
}

NAME = ("source_id", "full_name")
PAY = ("txn_id", "ts", "cast(amount as varchar)")
TEN_MB = 10 * 1024 * 1024


def write_big_field(path: Path) -> None:
    """A feedback file whose second text field (line 3) is 10 MB (generated: too big to commit)."""
    path.write_bytes(
        b'id,member,ts,text\nF1,m1,2026-01-01 10:00:00,ok\nF2,m1,2026-01-01 10:00:00,"'
        + b"x" * TEN_MB
        + b'"\n'
    )


def write_int_ids_parquet(path: Path) -> None:
    """A Parquet file whose member number and phone are integers (mapped to text fields)."""
    pl.DataFrame(
        {
            "member_no": [123, 7, None],
            "phone": [13800138000, 13900139000, 13700137000],
            "name": ["张三", "李四", "王五"],
        },
        schema={"member_no": pl.Int64, "phone": pl.Int64, "name": pl.String},
    ).write_parquet(path)


FEEDBACK = {
    "kind": "feedback",
    "format": "csv",
    "columns": {"feedback_id": "id", "customer_ref": "member", "ts": "ts", "text": "text"},
}
CSV_LINE = "(?is)^source 'corpus': cannot read {file} as csv \\(encoding utf-8\\): "


CASES: list[Case] = [
    # --- truncated files --------------------------------------------------------------------------------
    Case(
        "truncated_in_quoted_field",
        "truncated_quoted_field.csv",
        CUSTOMERS_CITY,
        Error(
            re.compile(
                CSV_LINE.format(file=r"truncated_quoted_field\.csv")
                + r".*line:? 4\b.*unterminated quote.*it may be truncated"
            )
        ),
    ),
    Case(
        "truncated_mid_row",  # cut off after a field: fewer columns on the last line, no final line break
        "truncated_mid_row.csv",
        CUSTOMERS_CITY,
        Error(
            re.compile(
                CSV_LINE.format(file=r"truncated_mid_row\.csv")
                + r".*line:? 4\b.*Expected Number of Columns: 3 Found: 2.*; the file does not end with a line "
                r"break: it may be truncated \(cut off, or still being written\)$"
            )
        ),
    ),
    Case(
        "truncated_in_quoted_name",
        "truncated_quoted_name.csv",
        CUSTOMERS,
        Error(
            re.compile(
                CSV_LINE.format(file=r"truncated_quoted_name\.csv") + r".*line:? 3\b.*unterminated quote"
            )
        ),
    ),
    Case(
        "truncated_in_gbk_character",
        "gbk_truncated_mid_char.csv",
        {**CN_CUSTOMERS, "encoding": "gbk"},
        Error("{dir}/gbk_truncated_mid_char.csv: ends inside a multi-byte gbk character (truncated file?)"),
    ),
    # --- delimiters and encodings -----------------------------------------------------------------------
    Case(
        "semicolon_file_with_delim_set",  # the dialect is never guessed: the config says ';'
        "semicolon_delimited.csv",
        {**CUSTOMERS_CITY, "options": {"delim": ";"}},
        Loaded(
            ("source_id", "full_name", "city"),
            [(1, "1", "Alice", "Beijing"), (2, "2", "Bob", "Shanghai")],
            (2, 2, 0, 0),
            raw_columns=["id", "name", "city"],
        ),
    ),
    Case(
        "semicolon_file_read_as_comma",
        "semicolon_delimited.csv",
        {**CUSTOMERS_CITY, "options": {"delim": ","}},
        Error(
            "source 'corpus': file semicolon_delimited.csv has no column 'city', 'id', 'name' used by the "
            "mapping (its columns: ['id;name;city'])"
        ),
    ),
    Case(
        "gbk_declared_utf8",
        "gbk_declared_utf8.csv",
        CN_CUSTOMERS,
        Error(
            re.compile(
                CSV_LINE.format(file=r"gbk_declared_utf8\.csv")
                + r".*(invalid unicode|not utf-8 encoded|cannot be read as utf-8)"
            )
        ),
    ),
    Case(
        "utf8_declared_big5",
        "utf8_declared_big5.csv",
        {**CN_CUSTOMERS, "encoding": "big5"},
        Error(
            "{dir}/utf8_declared_big5.csv: declared big5 but its text is UTF-8 (multi-byte UTF-8 sequences "
            "throughout); set the source's `encoding` to utf-8"
        ),
    ),
    Case(
        "gb18030_declared_gbk",
        "gb18030_declared_gbk.csv",
        {**CUSTOMERS, "encoding": "gbk", "columns": {"source_id": '"编号"', "full_name": '"姓名"'}},
        Error(
            "{dir}/gb18030_declared_gbk.csv: cannot be read as gbk (line 2, byte 16: b'\\x952\\x826'). "
            "Set the source's `encoding` to the file's real encoding (e.g. gb18030, big5, utf-8)."
        ),
    ),
    Case(
        "big5_declared_gb18030",  # GB18030 reads every Big5 byte pair: into rare and private-use characters
        "big5_declared_gb18030.csv",
        {**CUSTOMERS, "encoding": "gb18030", "columns": {"source_id": '"會員編號"', "full_name": '"姓名"'}},
        Error(
            "{dir}/big5_declared_gb18030.csv: declared gb18030 but its text reads as cp950: read as gb18030, 40% "
            "of its Chinese characters are common ones (穦\ue174絪腹﹎\ue6bd\ue06dカ ...), read as cp950 100% "
            "(會員編號姓名城市 ...); set the source's `encoding` to cp950 (Big5 with the characters Windows adds, "
            "such as 碁)"
        ),
    ),
    Case(
        "big5_read_as_gbk",  # Big5 names whose every byte pair is GBK too: no decoding error to catch it
        "big5_read_as_gbk.csv",
        {**CUSTOMERS, "encoding": "gbk"},
        Error(
            "{dir}/big5_read_as_gbk.csv: declared gbk but its text reads as cp950: read as gbk, 56% of its Chinese "
            "characters are common ones (辅臭簅傈県表扭禁 ...), read as cp950 100% (落堪榣瞪庾桶聾輦 ...); set the "
            "source's `encoding` to cp950 (Big5 with the characters Windows adds, such as 碁)"
        ),
    ),
    Case(
        "gbk_names_that_read_as_big5",  # a few GBK names whose bytes read as common Big5 too: too few to tell
        "gbk_names_that_read_as_big5.csv",
        {**CUSTOMERS, "encoding": "gbk", "columns": {"source_id": '"编号"', "full_name": '"姓名"'}},
        Loaded(
            NAME,
            [
                (1, "001", "陈紹義"),
                (2, "002", "李玥"),
                (3, "003", "黄統"),
                (4, "004", "林祐紅"),
                (5, "005", "何紀"),
                (6, "006", "梁約"),
                (7, "007", "郭結"),
                (8, "008", "胡絲"),
                (9, "009", "高給"),
                (10, "010", "蔡發"),
                (11, "011", "冯納"),
                (12, "012", "邓現"),
            ],
            (12, 12, 0, 0),
        ),
    ),
    Case(
        "gbk_rare_name_characters",  # names with characters outside GB2312 are GBK still: no false alarm
        "gbk_rare_name_chars.csv",
        {**CUSTOMERS, "encoding": "gbk", "columns": {"source_id": '"编号"', "full_name": '"姓名"'}},
        Loaded(
            NAME,
            [
                (1, "001", "王堃"),
                (2, "002", "李燊"),
                (3, "003", "张喆"),
                (4, "004", "陈昇"),
                (5, "005", "刘龑"),
                (6, "006", "周玥"),
                (7, "007", "吴珺"),
                (8, "008", "郑瑄"),
                (9, "009", "孙琰"),
                (10, "010", "赵祎"),
                (11, "011", "钱淼"),
                (12, "012", "冯晧"),
            ],
            (12, 12, 0, 0),
        ),
    ),
    Case(
        "header_only",
        "header_only.csv",
        CUSTOMERS,
        Loaded(NAME, [], (0, 0, 0, 0), raw_columns=["id", "name"]),
    ),
    Case(
        "empty_file",
        "empty.csv",
        CUSTOMERS,
        Error(re.compile(r"^source 'corpus': (file )?empty\.csv is empty")),
    ),
    Case(
        "utf8_bom",
        "utf8_bom.csv",
        CN_CUSTOMERS,
        Loaded(
            NAME,
            [(1, "000123", "张三"), (2, "000124", "李四")],
            (2, 2, 0, 0),
            raw_columns=["会员编号", "姓名"],
        ),
    ),
    Case(
        "big5_chinese_headers",
        "big5_chinese_headers.csv",
        {
            "kind": "customers",
            "format": "csv",
            "encoding": "big5",
            "columns": {"source_id": '"會員編號"', "full_name": '"姓名"', "city": '"城市"'},
        },
        Loaded(
            ("source_id", "full_name", "city"),
            [(1, "001", "張三", "臺北"), (2, "002", "陳大文", "香港")],
            (2, 2, 0, 0),
            raw_columns=["會員編號", "姓名", "城市"],
        ),
    ),
    Case(
        "gb18030_rare_characters",
        "gb18030_rare_chars.csv",
        {**CUSTOMERS, "encoding": "gb18030", "columns": {"source_id": '"编号"', "full_name": '"姓名"'}},
        Loaded(NAME, [(1, "001", "王𠀀"), (2, "002", "李䶮"), (3, "003", "张三")], (3, 3, 0, 0)),
    ),
    # --- dates and amounts --------------------------------------------------------------------------------
    Case(
        "mixed_date_formats",
        "mixed_date_formats.csv",
        MIXED_DATES,
        Loaded(
            ("txn_id", "ts"),
            [
                (1, "T1", utc("2026-01-02 02:00:00")),
                (2, "T2", utc("2026-01-03 02:00:00")),
                (3, "T3", utc("2026-01-04 02:00:00")),  # 04/01/2026 is day/month: the mapping says so
                (4, "T4", utc("2026-01-04 16:00:00")),  # a bare date is midnight in Shanghai
                (5, "T5", utc("2026-01-05 16:00:00")),
            ],
            (5, 5, 0, 0),
        ),
    ),
    Case(
        "date_no_format_matches",
        "unparseable_date.csv",
        MIXED_DATES,
        Quarantined(
            ("txn_id", "ts"),
            [(1, "T1", utc("2026-01-02 02:00:00"))],
            (2, 1, 1, 0),
            quarantine=[(2, "ts", re.compile(r"^field ts: .*'yesterday'"))],
        ),
    ),
    Case(
        "currency_amounts_cleaned",
        "currency_amounts.csv",
        CLEAN_AMOUNT,
        Loaded(
            ("txn_id", "cast(amount as varchar)"),
            [
                (1, "T1", "1234.50"),
                (2, "T2", "1000.00"),
                (3, "T3", "-3.00"),
                (4, "T4", "12345678.90"),
                (5, "T5", "12.50"),
            ],
            (5, 5, 0, 0),
        ),
    ),
    Case(
        "currency_amounts_raw",  # amounts as written are read: the marks of yuan become its currency
        "currency_amounts.csv",
        PAYMENTS,
        Loaded(
            ("txn_id", "cast(amount as varchar)", "currency"),
            [
                (1, "T1", "1234.50", "CNY"),
                (2, "T2", "1000.00", None),
                (3, "T3", "-3.00", "CNY"),
                (4, "T4", "12345678.90", "CNY"),
                (5, "T5", "12.50", None),
            ],
            (5, 5, 0, 0),
        ),
    ),
    Case(
        "negative_zero",  # -0.00 is 0.00: row 3 (0.00) repeats row 1 value for value
        "negative_zero.csv",
        PAYMENTS,
        Loaded(
            PAY,
            [(1, "T1", utc("2026-01-01 02:00:00"), "0.00"), (2, "T2", utc("2026-01-01 02:00:00"), "0.00")],
            (3, 2, 0, 1),
            duplicates=[(3, "T1", 1)],
        ),
    ),
    Case(
        "nan_and_inf_amounts",  # decimal(18,2) has no NaN or infinity: quarantined, as is an overflow
        "nan_inf_amounts.csv",
        PAYMENTS,
        Quarantined(
            ("txn_id", "cast(amount as varchar)"),
            [(5, "T5", "1000.00")],
            (6, 1, 5, 0),
            quarantine=[
                (1, "amount", "field amount: 'NaN' is not a valid decimal(18,2)"),
                (2, "amount", "field amount: 'Inf' is not a valid decimal(18,2)"),
                (3, "amount", "field amount: '-Infinity' is not a valid decimal(18,2)"),
                (4, "amount", "field amount: 'nan' is not a valid decimal(18,2)"),
                (6, "amount", "field amount: '12345678901234567.00' is not a valid decimal(18,2)"),
            ],
        ),
    ),
    # --- big and strange text -----------------------------------------------------------------------------
    Case(
        "ten_mb_field_default_line_size",
        "big_field.csv",
        FEEDBACK,
        Error(
            # DuckDB's own error says line 1 of a "Single-Line File"
            re.compile(
                CSV_LINE.format(file=r"big_field\.csv")
                + re.escape(
                    "line 3 is over the maximum line size of 2,000,000 bytes (raise the source's max_line_size "
                    "option for longer lines)"
                )
                + "$"
            )
        ),
        make=write_big_field,
    ),
    Case(
        "ten_mb_field_with_max_line_size",
        "big_field.csv",
        {**FEEDBACK, "options": {"max_line_size": 11 * 1024 * 1024}},
        Loaded(
            ("feedback_id", "length(text)", "left(text, 3)"),
            [(1, "F1", 2, "ok"), (2, "F2", TEN_MB, "xxx")],
            (2, 2, 0, 0),
        ),
        make=write_big_field,
    ),
    Case(
        "control_characters_in_names",  # extract is faithful: ESC, BEL, NUL and BS are kept as read
        "control_chars_in_names.csv",
        CUSTOMERS,
        Loaded(
            NAME,
            [
                (1, "1", "A\x1b[31mB\x1b[0m"),
                (2, "2", "Bell\x07"),
                (3, "3", "Nul\x00X"),
                (4, "4", "Back\x08space"),
            ],
            (4, 4, 0, 0),
        ),
    ),
    Case(
        "a_row_too_long_under_a_header_ending_in_an_empty_name",  # the diagnosis reads it with column3 there
        "empty_header_name_extra_field.csv",
        CUSTOMERS,
        Error(
            re.compile(
                CSV_LINE.format(file=r"empty_header_name_extra_field\.csv")
                + r".*line:? 3\b.*Expected Number of Columns: 3 Found: 4"
            )
        ),
    ),
    Case(
        "duplicate_header_names",  # DuckDB renames the second 'name' to name_1; the mapping reads the first
        "duplicate_headers.csv",
        CUSTOMERS,
        Loaded(
            NAME, [(1, "1", "Alice"), (2, "2", "Bob")], (2, 2, 0, 0), raw_columns=["id", "name", "name_1"]
        ),
    ),
    Case(
        "sql_looking_names",
        "sql_strings_in_names.csv",
        CUSTOMERS,
        Loaded(
            NAME,
            [
                (1, "1", "Robert'); DROP TABLE staging.customers;--"),
                (2, "2", 'a"b'),
                (3, "3", "'; select 1; --"),
                (4, "4", "$1 OR 1=1"),
            ],
            (4, 4, 0, 0),
        ),
    ),
    Case(
        "emoji_and_rare_cjk_names",
        "emoji_rare_cjk_names.csv",
        CUSTOMERS,
        Loaded(
            NAME,
            [(1, "1", "张𠀀😀"), (2, "2", "👨\u200d👩\u200d👧 家"), (3, "3", "䶮"), (4, "4", "𪚥龘")],
            (4, 4, 0, 0),
        ),
    ),
    # --- duplicates and checks ----------------------------------------------------------------------------
    Case(
        "exact_duplicate_rows",  # row 4 differs in spelling only (10.0, PAID): the same canonical values
        "exact_duplicate_rows.csv",
        PAYMENTS_STATUS,
        Loaded(
            ("txn_id", "customer_ref", "cast(amount as varchar)", "status"),
            [(1, "T1", "m1", "10.00", "paid"), (2, "T2", "m2", "5.00", "paid")],
            (4, 2, 0, 2),
            duplicates=[(3, "T1", 1), (4, "T1", 1)],
        ),
    ),
    Case(
        "same_id_other_values",
        "conflicting_ids.csv",
        PAYMENTS_STATUS,
        Quarantined(
            ("txn_id", "customer_ref", "cast(amount as varchar)"),
            [(1, "T1", "m1", "10.00"), (3, "T2", "m2", "5.00")],
            (4, 2, 2, 0),
            quarantine=[
                (2, None, "duplicate txn_id 'T1' with other values than conflicting_ids.csv row 1"),
                (4, None, "duplicate txn_id 'T2' with other values than conflicting_ids.csv row 3"),
            ],
        ),
    ),
    Case(
        "future_timestamps",
        "future_timestamps.csv",
        PAYMENTS,
        Quarantined(
            ("txn_id", "ts"),
            [(1, "T1", utc("2026-01-01 02:00:00"))],
            (4, 1, 3, 0),
            quarantine=[
                (2, "ts", "field ts: 2099-12-31 23:59:59+08 is in the future"),
                (3, "ts", "field ts: 2100-01-01 00:00:00+08 is in the future"),
                (4, "ts", "field ts: 10000-01-01 07:59:59+08 is in the future"),
            ],
        ),
    ),
    Case(
        "timestamps_with_offsets_and_naive",  # naive = Shanghai; every row is the same instant
        "timestamp_offsets.csv",
        PAYMENTS,
        Quarantined(
            ("txn_id", "ts"),
            [
                (1, "T1", utc("2026-01-01 02:00:00")),
                (2, "T2", utc("2026-01-01 02:00:00")),
                (3, "T3", utc("2026-01-01 02:00:00")),
                (4, "T4", utc("2026-01-01 02:00:00")),
                (5, "T5", utc("2026-01-01 02:00:00")),
                (6, "T6", datetime(2026, 1, 1, 2, 0, 0, 123456, tzinfo=UTC)),
            ],
            (7, 6, 1, 0),
            # a space before a four-digit offset is not a format DuckDB reads: quarantined, not guessed
            quarantine=[(7, "ts", "field ts: '2026-01-01 10:00:00 +0800' is not a valid timestamptz")],
        ),
    ),
    Case(
        "timestamps_with_named_zone_or_seconds_offset",
        "named_time_zones.csv",
        PAYMENTS,
        Loaded(
            ("txn_id", "ts"),
            [(1, "T1", utc("2026-01-01 15:00:00")), (2, "T2", utc("2026-01-01 15:00:00"))],
            (2, 2, 0, 0),
        ),
    ),
    Case(
        "missing_required_fields",
        "missing_required_fields.csv",
        {**PAYMENTS, "columns": {**PAYMENTS["columns"], "email": "email"}},
        Quarantined(  # row 4 says nobody's it is: staged apart as unattributed (counted as staged)
            ("txn_id",),
            [(1, "T1")],
            (5, 2, 3, 0),
            unattributed=1,
            quarantine=[
                (2, "ts", "field ts: missing"),
                (3, "amount", "field amount: missing"),
                (
                    5,
                    "ts",
                    "field ts: missing; field amount: missing; no customer reference: customer_ref, email all empty",
                ),
            ],
        ),
    ),
    Case(
        "unknown_status",
        "unknown_status.csv",
        PAYMENTS_STATUS,
        Quarantined(
            ("txn_id", "status"),
            [(1, "T1", "paid"), (3, "T3", None)],
            (4, 2, 2, 0),
            quarantine=[
                (
                    2,
                    "status",
                    "field status: 'shipped' is not one of paid, refunded, cancelled, failed, pending",
                ),
                (
                    4,
                    "status",
                    "field status: '已支付' is not one of paid, refunded, cancelled, failed, pending",
                ),
            ],
        ),
    ),
    # --- JSON Lines and Parquet ---------------------------------------------------------------------------
    Case(
        "jsonl_one_malformed_line",
        "malformed_line.jsonl",
        EVENTS,
        Error(re.compile(r"(?is)^source 'corpus': cannot read malformed_line\.jsonl as jsonl .*line 2\b")),
    ),
    Case(
        "jsonl_gbk_one_malformed_line",
        "gbk_malformed_line.jsonl",
        {**EVENTS, "encoding": "gbk"},
        Error(
            re.compile(
                r"(?is)^source 'corpus': cannot read gbk_malformed_line\.jsonl as jsonl \(encoding gbk\): "
                r"(?!.*\.extract-).*line 2\b"
            )
        ),
    ),
    Case(
        "jsonl_nested_fields",
        "nested_fields.jsonl",
        {
            **EVENTS,
            "columns": {
                "event_id": "id",
                "customer_ref": "user.member_id",
                "device_id": "user.device.id",
                "ts": "ts",
                "event_type": "type",
                "duration_s": "meta.duration",
            },
        },
        Loaded(  # row 3 says nobody's it is: staged apart as unattributed (counted as staged)
            ("event_id", "customer_ref", "device_id", "ts", "event_type", "duration_s"),
            [
                (1, "E1", "000123", "d1", utc("2026-01-01 02:00:00"), "登录", 12.5),
                (2, "E2", None, "d2", utc("2026-01-01 03:00:00"), "share", None),
            ],
            (3, 3, 0, 0),
            unattributed=1,
        ),
    ),
    # every time with its offset: DuckDB reads the column as TIMESTAMPTZ, the instants as written (DuckDB
    # 1.5.5's JSON reader took them as zoneless UTC times, which a source's time zone then shifted by 8 hours)
    Case(
        "jsonl_times_with_offsets",
        "offset_times.jsonl",
        EVENTS,
        Loaded(
            ("event_id", "ts"),
            [(1, "E1", utc("2025-12-31 16:30:00")), (2, "E2", utc("2026-01-01 15:00:00"))],
            (2, 2, 0, 0),
        ),
    ),
    Case(
        "jsonl_mixed_value_types",
        "mixed_json_types.jsonl",
        {**EVENTS, "columns": {"event_id": "id", "customer_ref": "member", "ts": "ts", "value": "value"}},
        Loaded(("event_id", "value"), [(1, "1", 1.5), (2, "E2", 2.5)], (2, 2, 0, 0)),
    ),
    Case(
        "parquet_int_columns_mapped_to_text",
        "int_ids.parquet",
        {
            "kind": "customers",
            "format": "parquet",
            "columns": {"source_id": "member_no", "phone": "phone", "full_name": "name"},
        },
        Quarantined(
            ("source_id", "phone", "full_name"),
            [(1, "123", "13800138000", "张三"), (2, "7", "13900139000", "李四")],
            (3, 2, 1, 0),
            quarantine=[(3, "source_id", "field source_id: missing")],
        ),
        make=write_int_ids_parquet,
    ),
    # --- CSV structure ------------------------------------------------------------------------------------
    Case(
        "crlf_line_endings",  # the CRLF inside a quoted field is data and is kept
        "crlf_line_endings.csv",
        CUSTOMERS_CITY,
        Loaded(
            ("source_id", "full_name", "city"),
            [(1, "1", "Alice", "Beijing"), (2, "2", "Two\r\nLines", "Shanghai"), (3, "3", "Carol", None)],
            (3, 3, 0, 0),
        ),
    ),
    Case(
        "quoted_field_with_newline_and_comma",
        "embedded_newline_and_comma.csv",
        CUSTOMERS_CITY,
        Loaded(
            ("source_id", "full_name", "city"),
            [
                (1, "1", "Smith, John\nJr.", "Beijing"),
                (2, "2", 'He said "hi"', "Shanghai"),
                (3, "3", None, None),
            ],
            (3, 3, 0, 0),
        ),
    ),
    Case(
        "trailing_empty_lines",
        "trailing_empty_lines.csv",
        CUSTOMERS,
        Loaded(NAME, [(1, "1", "Alice"), (2, "2", "Bob")], (2, 2, 0, 0)),
    ),
    Case(
        "row_with_too_many_columns",
        "too_many_columns.csv",
        CUSTOMERS,
        Error(
            re.compile(
                CSV_LINE.format(file=r"too_many_columns\.csv")
                + r".*line:? 3\b.*expected (number of columns:? )?2.*found:? 3"
            )
        ),
    ),
    Case(
        "row_with_too_few_columns",
        "too_few_columns.csv",
        CUSTOMERS_CITY,
        Error(
            re.compile(
                CSV_LINE.format(file=r"too_few_columns\.csv")
                + r".*line:? 3\b.*expected (number of columns:? )?3.*found:? 2"
            )
        ),
    ),
    Case(
        "first_field_starting_with_hash",
        "hash_in_first_field.csv",
        CUSTOMERS,
        Loaded(NAME, [(1, "1", "Alice"), (2, "#2", "Bob"), (3, "3", "Carol")], (3, 3, 0, 0)),
    ),
    Case(
        "headerless_file_with_header_false",
        "headerless.csv",
        {
            **CUSTOMERS,
            "options": {"header": False},
            "columns": {"source_id": "column0", "full_name": "column1"},
        },
        Loaded(NAME, [(1, "1", "Alice"), (2, "2", "Bob")], (2, 2, 0, 0), raw_columns=["column0", "column1"]),
    ),
]


# ---------------------------------------------------------------------------------------------------------
# the runner
# ---------------------------------------------------------------------------------------------------------


def prepare(case: Case, folder: Path) -> dict[str, Any]:
    """Put the case's input file into folder and return its full source config."""
    target = folder / case.file
    if case.make is not None:
        case.make(target)
    else:
        shutil.copyfile(CORPUS / case.file, target)
    return {"name": SOURCE, "path": case.file, **case.source}


def check_rows(wh: Warehouse, case: Case, outcome: Loaded) -> None:
    """Staged rows, quarantine, duplicates and counts of a loaded source, compared exactly."""
    kind = case.source["kind"]
    read, staged, quarantined, dropped = outcome.counts
    assert read == staged + quarantined + dropped  # the case itself must add up
    assert quarantined == len(outcome.quarantine) and (quarantined > 0) == isinstance(outcome, Quarantined)
    columns = ", ".join(outcome.fields)
    assert (
        wh.rows(f"select _row, {columns} from staging.{kind} where source = ? order by _row", [SOURCE])
        == outcome.staged
    )
    rows = wh.rows(
        "select run_id, source, file, row_number, field, reason from audit.quarantine order by row_number"
    )
    assert [r[:3] for r in rows] == [(RUN_ID, SOURCE, case.file)] * len(rows)
    for (_, _, _, number, name, reason), (want_number, want_name, want_reason) in zip(
        rows, outcome.quarantine, strict=True
    ):
        assert (number, name) == (want_number, want_name)
        if isinstance(want_reason, re.Pattern):
            assert want_reason.search(reason), reason
        else:
            assert reason == want_reason
    assert (
        wh.rows("select row_number, id, kept_row_number from audit.duplicates order by row_number")
        == outcome.duplicates
    )
    if kind != "customers":
        assert wh.rows(f"select count(*) from staging.unattributed_{kind}") == [(outcome.unattributed,)]
    audit = wh.rows(
        "select file, rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_unattributed "
        "from audit.load_audit"
    )
    assert audit == [(case.file, read, staged, quarantined, dropped, outcome.unattributed)]
    _, a_read, a_staged, a_quarantined, a_dropped, _ = audit[0]
    assert a_read == a_staged + a_quarantined + a_dropped
    if outcome.raw_columns is not None:
        assert [
            name
            for (name,) in wh.rows(f"select column_name from (describe raw.{SOURCE})")
            if not name.startswith("_")
        ] == outcome.raw_columns


def run_case(case: Case, folder: Path) -> None:
    """Extract the case's file into an in-memory warehouse and compare what comes out."""
    config = make_config(folder, [prepare(case, folder)])
    with Warehouse(":memory:", timezone=config.timezone) as wh:
        if isinstance(case.outcome, Error):
            with pytest.raises(DataError) as caught:
                extract_all(wh, config, RUN_ID)
            message = str(caught.value)
            if isinstance(case.outcome.message, re.Pattern):
                assert case.outcome.message.search(message), message
            else:
                assert message == case.outcome.message.replace("{dir}", str(folder))
            assert not (folder / f".extract-{RUN_ID}").exists()  # no work files left behind
            # all or nothing: the failed load left no tables behind
            assert (
                wh.rows(
                    "select table_schema, table_name from information_schema.tables "
                    "where table_schema in ('raw', 'staging', 'audit')"
                )
                == []
            )
            return
        loads = extract_all(wh, config, RUN_ID)
        read, staged, quarantined, dropped = case.outcome.counts
        unattributed = case.outcome.unattributed
        assert loads == [
            SourceLoad(
                SOURCE, case.source["kind"], 1, 1, read, staged, quarantined, dropped, "loaded", unattributed
            )
        ]
        load = loads[0]
        assert load.rows_read == load.rows_staged + load.rows_quarantined + load.duplicates_dropped
        check_rows(wh, case, case.outcome)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
        )
        for case in CASES
    ],
)
def test_corpus_case(case: Case, tmp_path: Path) -> None:
    run_case(case, tmp_path.resolve())


def test_every_corpus_file_has_a_case_and_is_small() -> None:
    committed = {p.name for p in CORPUS.iterdir() if p.is_file() and not p.name.startswith(".")}
    used = {case.file for case in CASES if case.make is None}
    assert committed == used
    assert {
        name: (CORPUS / name).stat().st_size
        for name in committed
        if (CORPUS / name).stat().st_size > MAX_CORPUS_FILE
    } == {}
    assert len({case.id for case in CASES}) == len(CASES) >= 25
