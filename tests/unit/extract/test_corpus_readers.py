"""More bad-input corpus cases (the runner and outcomes of test_corpus.py): UTF-16 files, JSON Lines with a
byte-order mark, JSON Lines in another encoding. Each ends in rows or a DataError saying what to set,
never a UnicodeDecodeError. The files are generated (make=), so the corpus folder stays as it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.extract.test_corpus import CUSTOMERS, EVENTS, NAME, Case, Error, Loaded, run_case

CSV = "id,name\n1,张三\n2,李四\n"
JSONL = (
    '{"id": "E1", "member": "m1", "ts": "2026-01-01 10:00:00", "type": "登录"}\n'
    '{"id": "E2", "member": "m2", "ts": "2026-01-01 11:00:00", "type": "share"}\n'
)
JSONL_ROWS = Loaded(("event_id", "event_type"), [(1, "E1", "登录"), (2, "E2", "share")], (2, 2, 0, 0))
TO_UTF16 = "it starts with a UTF-16 byte-order mark: set the source's `encoding` to utf-16"


def written(data: bytes) -> Callable[[Path], None]:
    """A make= function writing data."""
    return lambda path: path.write_bytes(data)


def in_utf8_read(file: str, fmt: str = "csv") -> str:
    """The start of the DataError for a file that is not UTF-8 though declared so."""
    return f"source 'corpus': cannot read {file} as {fmt} (encoding utf-8): it cannot be read as utf-8 "


CASES = [
    Case(
        "utf16_with_bom_declared_utf8",
        "utf16_bom.csv",
        CUSTOMERS,
        Error(in_utf8_read("utf16_bom.csv") + f"(line 1, byte 0: b'\\xff\\xfei\\x00'); {TO_UTF16}"),
        make=written(CSV.encode("utf-16")),
    ),
    Case(
        "utf16le_without_bom_declared_utf8",
        "utf16le.csv",
        CUSTOMERS,
        Error(
            in_utf8_read("utf16le.csv") + "(line 3, byte 32: b'\\xdbV\\n\\x00'); it holds NUL bytes between "
            "characters, as UTF-16 does: set the source's `encoding` to utf-16-le"
        ),
        make=written(CSV.encode("utf-16-le")),
    ),
    Case(  # DuckDB itself says "Line: 2 … new_line = Single-Line File" for a 3-line file, and no byte
        "gbk_rows_under_an_ascii_header_declared_utf8",
        "gbk_rows.csv",
        CUSTOMERS,
        Error(
            in_utf8_read("gbk_rows.csv") + "(line 3, byte 22: b'\\xc0\\xee\\xcb\\xc4'); set the source's "
            "`encoding` to the file's real encoding (e.g. gbk, gb18030, big5, utf-16)"
        ),
        make=written(b"id,name\n1,Zhang San\n2," + "李四".encode("gbk") + b"\n"),
    ),
    Case(  # the retail trial's cp1252 file: the GBK hint led to 'CR萂E BR跮蒃' staged without an error
        "cp1252_rows_declared_utf8",
        "cp1252_rows.csv",
        CUSTOMERS,
        Error(
            in_utf8_read("cp1252_rows.csv")
            + "(line 3, byte 24: b'\\xc8ME '); it is not a Chinese double-byte "
            "text either; set the source's `encoding` to the file's real one, most likely cp1252 (Windows Western "
            "European: é, £, €) or latin-1"
        ),
        make=written(b"id,name\n1,Zhang San\n2," + "CRÈME BRÛLÉE".encode("cp1252") + b"\n"),
    ),
    Case(  # GBK reads it without an error, into rare characters: staged as 'CR萂E BR跮蒃' before
        "cp1252_declared_gbk",
        "cp1252_gbk.csv",
        {**CUSTOMERS, "encoding": "gbk"},
        Error(
            "{dir}/cp1252_gbk.csv: declared gbk but its text is Western European (cp1252 or latin-1): read as "
            "gbk, 0% of its 5 non-ASCII characters are everyday Chinese ones (萂跮蒃舗鰉 ...); set the source's "
            "`encoding` to cp1252 (Windows: é, £, €) or latin-1"
        ),
        make=written(b"id,name\n1,Zhang San\n2," + "CRÈME BRÛLÉE, Ångström".encode("cp1252") + b"\n"),
    ),
    Case(  # not even GBK: the hint names the Western encodings
        "cp1252_not_gbk",
        "cp1252_not_gbk.csv",
        {**CUSTOMERS, "encoding": "gbk"},
        Error(
            "{dir}/cp1252_not_gbk.csv: cannot be read as gbk (line 2, byte 13: b'\\xe9 cr'). Set the source's "
            "`encoding` to the file's real encoding (e.g. cp1252 or latin-1)."
        ),
        make=written(b"id,name\n1,caf" + "é crème brûlée".encode("cp1252") + b"\n"),
    ),
    Case(
        "utf16_declared_utf16",
        "utf16_declared.csv",
        {**CUSTOMERS, "encoding": "utf-16"},
        Loaded(NAME, [(1, "1", "张三"), (2, "2", "李四")], (2, 2, 0, 0)),
        make=written(CSV.encode("utf-16")),
    ),
    Case(
        "jsonl_with_utf8_bom",  # the README: a UTF-8 BOM is stripped
        "bom.jsonl",
        EVENTS,
        JSONL_ROWS,
        make=written(b"\xef\xbb\xbf" + JSONL.encode("utf-8")),
    ),
    Case(
        "jsonl_with_utf8_bom_declared_utf8_sig",
        "bom_sig.jsonl",
        {**EVENTS, "encoding": "utf-8-sig"},
        JSONL_ROWS,
        make=written(b"\xef\xbb\xbf" + JSONL.encode("utf-8")),
    ),
    Case(
        "jsonl_with_bom_and_a_gbk_line",
        "bom_then_gbk.jsonl",
        EVENTS,
        Error(  # the byte counts the BOM: positions are the file's
            "{dir}/bom_then_gbk.jsonl: cannot be read as utf-8 (line 2, byte "
            f"{3 + len(JSONL.splitlines()[1]) + 1 + 67}: b'\\xb5\\xc7\\xc2\\xbc'). Set the source's `encoding` to "
            "the file's real encoding (e.g. gb18030, big5, utf-8)."
        ),
        make=written(
            b"\xef\xbb\xbf" + JSONL.splitlines()[1].encode() + b"\n" + JSONL.splitlines()[0].encode("gbk")
        ),
    ),
    Case(
        "jsonl_gbk_declared_utf8",
        "gbk.jsonl",
        EVENTS,
        Error(
            in_utf8_read("gbk.jsonl", "jsonl")
            + "(line 1, byte 67: b'\\xb5\\xc7\\xc2\\xbc'); set the source's "
            "`encoding` to the file's real encoding (e.g. gbk, gb18030, big5, utf-16)"
        ),
        make=written(JSONL.encode("gbk")),
    ),
    Case(
        "jsonl_utf16_declared_utf8",
        "utf16.jsonl",
        EVENTS,
        Error(in_utf8_read("utf16.jsonl", "jsonl") + f"(line 1, byte 0: b'\\xff\\xfe{{\\x00'); {TO_UTF16}"),
        make=written(JSONL.encode("utf-16")),
    ),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_corpus_case(case: Case, tmp_path: Path) -> None:
    run_case(case, tmp_path.resolve())
