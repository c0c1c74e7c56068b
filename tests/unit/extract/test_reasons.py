"""What the too-many-bad-rows error quotes (tasks/extract/mapping_checks.py masked_reason) and which files a text
source refuses as no text (tasks/shared/files.py binary_format)."""

from pathlib import Path

import pytest

from tasks.extract.diagnose import long_line, mixed_line_endings
from tasks.extract.mapping_checks import mapping_prefixes, masked_reason
from tasks.shared.config import SourceConfig
from tasks.shared.errors import DataError
from tasks.shared.files import binary_format
from tests.sources import PAY_CSV, extract_once, write_config

LONG = "try_strptime(InvoiceDate, '" + "%d/%m/%Y %H:%M" * 5 + "')"  # cut at 80 characters, inside its quotes


def source(**columns: str) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "shop", "kind": "transactions", "format": "csv", "path": "x.csv", "columns": columns}
    )


def test_the_mappings_own_text_is_kept_and_every_value_masked() -> None:
    mapped = {"ts": "strptime(InvoiceDate, '%d/%m/%Y')", "order_id": "Invoice", "category": LONG}
    prefixes = mapping_prefixes(source(**mapped, amount="Quantity * Price", customer_ref="cid"))
    assert prefixes == [
        f"field category: {LONG[:77]}...",
        "field ts: strptime(InvoiceDate, '%d/%m/%Y')",
        "field amount: Quantity * Price",
        "field order_id: Invoice",
        "field customer_ref: cid",
    ]
    reason = "field ts: strptime(InvoiceDate, '%d/%m/%Y') fails for InvoiceDate '12/13/2009'"
    assert masked_reason(reason, prefixes) == (
        "field ts: strptime(InvoiceDate, '%d/%m/%Y') fails for InvoiceDate '...'"
    )
    # an expression cut inside its quotes: its open quote does not pair with the value's
    cut = f"field category: {LONG[:77]}... fails for InvoiceDate '13/45/2010'; no customer reference: customer_ref"
    assert masked_reason(cut, prefixes) == (
        f"field category: {LONG[:77]}... fails for InvoiceDate '...'; no customer reference: customer_ref"
    )
    # a value's own quote is doubled (staging.failure_sql): no part of it shows
    quoted = "field order_id: Invoice fails for Invoice 'O''Brien Jr'"
    assert masked_reason(quoted, prefixes) == "field order_id: Invoice fails for Invoice '...''...'"


def test_workbooks_and_parquet_files_are_named_but_text_that_starts_like_them_is_not(tmp_path: Path) -> None:
    files = {
        "book.csv": b"PK\x03\x04\x14\x00\x06\x00rest of a zip",
        "old.csv": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest",
        "table.csv": b"PAR1\x15\x04 columns PAR1",
        "codes.csv": b"PAR1001,Paris store\nPAR1002,Lyon store\n",  # a headerless CSV of store codes
        "plain.csv": b"id,name\n1,Ann\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert {name: binary_format(tmp_path / name) for name in files} == {
        "book.csv": "it is no text but a ZIP archive, as an Excel .xlsx workbook is: if it is one, set the source's "
        "`format` to xlsx",
        "old.csv": "it is no text but an old Office file (an Excel .xls workbook?): save it as .xlsx and set "
        "`format: xlsx`",
        "table.csv": "it is no text but a Parquet file: set the source's `format` to parquet",
        "codes.csv": None,
        "plain.csv": None,
    }


def test_the_first_line_over_the_maximum_is_found_across_reads_of_the_file(tmp_path: Path) -> None:
    message = "CSV Error on Line: 1 Maximum line size of 1500000 bytes exceeded. Actual Size:1500002 bytes."
    path = tmp_path / "long.csv"
    # line 3 straddles the first 1 MiB read; line 4 is one byte over the maximum, then one byte under
    first, second = b"a" * 1_048_000 + b"\n", b"b" * 574 + b"\n"
    path.write_bytes(b"h\n" + first + second + b"c" * 1_500_001 + b"\nd\n")
    reason = (
        "line 4 is over the maximum line size of 1,500,000 bytes (raise the source's max_line_size option"
    )
    assert long_line(path, message) == reason + " for longer lines)"
    path.write_bytes(b"h\n" + first + second + b"c" * 1_500_000 + b"\nd\n")
    assert long_line(path, message) is None
    assert long_line(path, "Conversion Error: Could not convert string 'x' to INT32") is None


def test_mixed_line_breaks_are_named_by_the_first_line_of_the_other_kind(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    # a CR at the very end of the first 1 MiB read, its LF at the start of the next: line 3 ends with CRLF
    first = b"a" * (1024 * 1024 - 5) + b"\n"
    path.write_bytes(b"h\n" + first + b"x\r\ny\n")
    assert mixed_line_endings(path) == (
        "line 3 ends with CRLF where the lines before it end with LF: mixed line breaks (files joined, or edited "
        "on another system); write the file with one kind"
    )
    path.write_bytes(b"h\r\nx\r\ny\n")
    assert mixed_line_endings(path) == (
        "line 3 ends with LF where the lines before it end with CRLF: mixed line breaks (files joined, or edited "
        "on another system); write the file with one kind"
    )
    path.write_bytes(b"h\r\nx\r\ny")
    assert mixed_line_endings(path) is None


def test_a_csv_with_mixed_line_breaks_is_refused_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "pay").mkdir()
    lines = ["txn_id,member_id,amount,ts"] + [f"T{n},M{n},{n}.00,2026-03-01 10:00:00" for n in range(1, 11)]
    text = "\n".join(lines[:6]) + "\n" + "\r\n".join(lines[6:]) + "\r\n"  # two exports joined
    (tmp_path / "pay" / "a.csv").write_bytes(text.encode())
    config = write_config(tmp_path, [PAY_CSV])
    with pytest.raises(DataError) as raised:
        extract_once(config, "run-1")
    assert str(raised.value) == (
        "source 'pay': cannot read pay/a.csv as csv (encoding utf-8): line 7 ends with CRLF where the lines before it "
        "end with LF: mixed line breaks (files joined, or edited on another system); write the file with one kind"
    )


LONE_CR = (
    "holds a carriage return (\\r) that is not followed by a line feed: outside quotes it breaks the row (a value "
    "with an old Mac line break, or files joined); quote the value, or replace the \\r with a space"
)


def test_a_lone_carriage_return_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    # a CR at the very end of the first 1 MiB read, the next read starting with no LF: it is on line 2
    path.write_bytes(b"h\n" + b"a" * (1024 * 1024 - 3) + b"\rb\nc\n")
    assert mixed_line_endings(path) == f"line 2 {LONE_CR}"
    path.write_bytes(b"h\r\nx\r\ny\rz\r\n")
    assert mixed_line_endings(path) == f"line 3 {LONE_CR}"
    # a quoted CR reads fine: the CRLF after LF lines is the cause, named first
    path.write_bytes(b'a,b\n1,"x\ry"\n2,z\r\n3,w\n')
    assert mixed_line_endings(path) == (
        "line 3 ends with CRLF where the lines before it end with LF: mixed line breaks (files joined, or edited "
        "on another system); write the file with one kind"
    )
    path.write_bytes(b"h\n" + b"a" * (1024 * 1024 - 3) + b"\r\nb\r\n")  # CRLF split between two reads
    assert mixed_line_endings(path) == (
        "line 2 ends with CRLF where the lines before it end with LF: mixed line breaks (files joined, or edited "
        "on another system); write the file with one kind"
    )


def test_a_survey_answer_with_an_unquoted_carriage_return_is_refused_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "pay").mkdir()
    lines = ["txn_id,member_id,amount,ts"] + [f"T{n},M{n},{n}.00,2026-03-01 10:00:00" for n in range(1, 6)]
    lines[3] = "T3,M3\rM4,3.00,2026-03-01 10:00:00"  # what Python's csv writes for a value with a lone CR
    (tmp_path / "pay" / "a.csv").write_bytes(("\n".join(lines) + "\n").encode())
    config = write_config(tmp_path, [PAY_CSV])
    with pytest.raises(DataError) as raised:
        extract_once(config, "run-1")
    assert (
        str(raised.value) == f"source 'pay': cannot read pay/a.csv as csv (encoding utf-8): line 4 {LONE_CR}"
    )


def test_a_small_csv_whose_last_row_has_a_field_too_many_is_refused_at_that_row(tmp_path: Path) -> None:
    """DuckDB's sniffer skipped the lines before the widest row and took that row for the header: the error then
    listed its values as the file's columns (fault injection). The dialect's skip is 0 unless the config sets it."""
    (tmp_path / "pay").mkdir()
    (tmp_path / "pay" / "a.csv").write_text(
        "txn_id,member_id,amount,ts\n"
        "T1,M1,1.00,2026-03-01 10:00:00\n"
        "T2,M2,2.00,2026-03-01 10:00:00\n"
        "T3,M3,1,234.50,2026-03-01 10:00:00\n",  # an unquoted thousands separator
        encoding="utf-8",
    )
    config = write_config(tmp_path, [PAY_CSV])
    with pytest.raises(DataError) as raised:
        extract_once(config, "run-1")
    assert str(raised.value).startswith(
        "source 'pay': cannot read pay/a.csv as csv (encoding utf-8): Invalid Input Error: CSV Error on Line: 4 "
        "Expected Number of Columns: 4 Found: 5"
    )
