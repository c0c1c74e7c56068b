"""Why a file cannot be read: DuckDB's error as a message naming the line, column or row it is about.

DuckDB's reader errors echo the options and the line, and a conversion error names neither the column
nor the row: these functions read the file again to say where, for read_file's DataError. reason_fix says
what to do about a quarantine reason (segments check).
"""

import itertools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb

from tasks.extract.time_checks import DAY_MONTH
from tasks.shared.errors import DataError
from tasks.shared.files import glob_literal, literal_path, not_utf8
from tasks.shared.scratch import scratch

# What DuckDB raises for a file it cannot read: a bad value or layout.
READ_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.BinderException)
# Errors of the machine, not of the file being read.
MACHINE_ERRORS = (duckdb.OutOfMemoryException, duckdb.InterruptException)
MACHINE_MESSAGES = ("No space left on device", "Out of Memory", "out of memory")


def is_read_error(exc: duckdb.Error, file_format: str) -> bool:
    """Whether a DuckDB error reading a file is the file's fault (not, say, memory or a full disk).

    A damaged Parquet file fails in many ways: a plain duckdb.Error from its Thrift decoder ("TProtocolException:
    Invalid data", "invalid TType"), "missing dictionary", an IOException for a column chunk past the file's
    end. Reading one, anything but the machine's own errors is the file's.
    """
    if isinstance(exc, READ_ERRORS):
        return True
    if file_format != "parquet" or isinstance(exc, MACHINE_ERRORS):
        return False
    return not any(message in str(exc) for message in MACHINE_MESSAGES)


def reader_error(exc: Exception) -> str:
    """DuckDB's reason for a file it cannot read, without the echo of the line and the option dump."""
    noise = (
        "Original Line",
        "Possible",
        "*",
        "The search space",
        "Delimiter Candidates",
        "Quote/Escape",
        "LINE 1",
        "^",
        "file =",
        "delimiter =",
        "quote =",
        "escape =",
        "header =",
        "skip_rows",
        "comment =",
        "strict_mode",
        "date_format",
        "timestamp_format",
        "null_padding",
        "all_varchar",
        "sample_size",
        "ignore_errors",
    )
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join([line for line in lines if not line.startswith(noise)][:3])
    if "Maximum line size" in text:
        text += " (raise the source's max_line_size option for longer lines)"
    return text


LINE_SIZE = re.compile(r"Maximum line size of (\d+) bytes")


def _line_breaks(path: Path) -> Iterator[tuple[int, int, bool | None]]:
    """Each line of a file as (number, bytes without its LF, whether it ends with CRLF: None for a last line
    without a break), read 1 MiB at a time, so that no line is ever held whole."""
    number, size, last = 1, 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                yield number, size + end - start, (chunk[end - 1 : end] if end else last) == b"\r"
                number, size, start = number + 1, 0, end + 1
            size += len(chunk) - start
            last = chunk[-1:]
    if size:
        yield number, size, None


def long_line(path: Path, message: str) -> str | None:
    """The first line of a text file longer than the maximum a "Maximum line size" error names, by its number.

    DuckDB's error gives line 1 of a "Single-Line File" whatever line it is; None for another error, or when no
    line of the file is that long (a quote left open makes a row of many lines: the error then stands).
    """
    match = LINE_SIZE.search(message)
    if match is None:
        return None
    limit = int(match[1])
    number = next((number for number, size, _ in _line_breaks(path) if size > limit), None)
    if number is None:
        return None
    return (
        f"line {number} is over the maximum line size of {limit:,} bytes (raise the source's max_line_size option "
        "for longer lines)"
    )


def lone_carriage_return(path: Path) -> int | None:
    """The number of the first line (counted by LF) that holds a CR not followed by LF, or None; read 1 MiB at a
    time. Outside quotes such a CR is a line break of its own, which a file of LF or CRLF lines cannot have."""
    number, previous = 1, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if previous == b"\r" and chunk[:1] != b"\n":
                return number
            start = 0
            while (position := chunk.find(b"\r", start)) >= 0:
                following = chunk[position + 1 : position + 2]
                if following and following != b"\n":
                    return number + chunk.count(b"\n", 0, position)
                start = position + 1
            number += chunk.count(b"\n")
            previous = chunk[-1:]
    return None


def mixed_line_endings(path: Path) -> str | None:
    """The first line of a text file that ends otherwise than the first line (CRLF after LF, or LF after CRLF), or
    that holds a CR of its own (a value written with an old Mac line break, unquoted), or None: DuckDB reads one
    kind of line break per file and fails at the first other one without saying where."""
    first: bool | None = None  # whether the first line ends with CRLF
    for number, _, crlf in _line_breaks(path):
        if crlf is None:  # the last line, without a break
            break
        if first is None:
            first = crlf
        elif crlf != first:
            ends, before = ("CRLF", "LF") if crlf else ("LF", "CRLF")
            return (
                f"line {number} ends with {ends} where the lines before it end with {before}: mixed line breaks "
                "(files joined, or edited on another system); write the file with one kind"
            )
    # lines all end alike: a CR inside a line (a quoted one reads fine, so the first is the likely cause)
    if (lone := lone_carriage_return(path)) is not None:
        return (
            f"line {lone} holds a carriage return (\\r) that is not followed by a line feed: outside quotes it "
            "breaks the row (a value with an old Mac line break, or files joined); quote the value, or replace "
            "the \\r with a space"
        )
    return None


def diagnose_csv(path: Path, options: str) -> str | None:
    """Why a CSV does not parse in its declared dialect, with the line: read again without any guessing."""
    import csv

    if reason := not_utf8(path):
        return reason
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        return None
    # a struct's keys: a header's empty or repeated name stands as its position (column3), unused (column3_2)
    names: list[str] = []
    used: set[str] = set()
    for position, name in enumerate(header, start=1):
        fallbacks = (f"column{position}" + (f"_{k}" if k > 1 else "") for k in itertools.count(1))
        names.append(next(c for c in itertools.chain([name], fallbacks) if c and c.lower() not in used))
        used.add(names[-1].lower())
    columns = "{" + ", ".join("'" + c.replace("'", "''") + "': 'varchar'" for c in names) + "}"
    with scratch() as con:
        try:
            con.execute(
                f"select count(*) from read_csv(?, auto_detect = false, columns = {columns}{options})",
                [glob_literal(path)],
            ).fetchall()
        except duckdb.Error as exc:
            return reader_error(exc)
    return None


def json_lines(path: Path, errors: str = "strict") -> Iterator[tuple[int, object]]:
    """Each line of a JSON Lines file that is not blank, by its number: its value, or the ValueError that parsing
    it raised."""
    import json

    with path.open(encoding="utf-8", errors=errors) as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except ValueError as exc:
                    yield number, exc


def diagnose_jsonl(path: Path) -> str | None:
    """The first line of a JSON Lines file that is not valid JSON (or not UTF-8), and why."""
    if reason := not_utf8(path):
        return reason
    for number, value in json_lines(path):
        if isinstance(value, ValueError):
            return f"line {number} is not valid JSON: {value}"
    return None


# What a line of JSON that is not an object is, by its Python type
JSON_KINDS = {list: "an array", str: "a string", bool: "true or false", int: "a number", float: "a number"}


def diagnose_json_rows(path: Path) -> str | None:
    """The first line of a JSON Lines file that is JSON but not an object, and what it is: DuckDB then reads the
    whole file as one column `json`, so that every mapped column looks missing."""
    for number, value in json_lines(path, errors="replace"):
        if isinstance(value, ValueError):
            return None  # not JSON: diagnose_jsonl's message
        if not isinstance(value, dict):
            return (
                f"line {number} is {JSON_KINDS.get(type(value), 'null')}, not an object: each line of a JSON "
                "Lines file is one row, an object {…}"
            )
    return None


def json_rows_problem(file_format: str, names: list[str], params: Mapping[str, Any]) -> str | None:
    """Why a JSON Lines file read as the one column `json` (names: its columns without lineage) has no rows of
    columns (diagnose_json_rows), or None. params: the reader's, with the file as `path` (a glob_literal)."""
    if file_format != "jsonl" or names != ["json"]:
        return None
    return diagnose_json_rows(literal_path(params["path"]))


CONVERSION = re.compile(r"[Cc]ould not convert (?:string )?'(.*?)' to (\S+)")


def diagnose_conversion(select: str, params: Mapping[str, Any], message: str) -> str | None:
    """Which column and row of a file hold the value a conversion error names (DuckDB names neither).

    select: the file's rows as read_file gives them to load (with `_row`).
    """
    match = CONVERSION.search(message)
    if match is None:
        return None
    value, target = match[1], match[2].rstrip(".,")
    with scratch() as con:
        columns = con.execute(f"select column_name from (describe {select})", params).fetchall()
        for (name,) in columns:
            column = '"' + name.replace('"', '""') + '"'
            found = con.execute(
                f"select _row from ({select}) where {column}::varchar = $value limit 1",
                {**params, "value": value},
            ).fetchone()
            if found is not None and name not in ("_file", "_row"):
                return (
                    f"column {name!r}, row {found[0]}: {value!r} cannot be converted to {target} ({message})"
                )
    return None


def reason_fix(reason: str) -> str | None:
    """What to do about a quarantine reason (without its `field x: `), or None."""
    if reason.startswith("where: ") and reason.endswith(" fails on this row"):
        return (
            "the where cannot be evaluated on these rows (a text date in another layout than its strptime, a text "
            "that is no number): try_strptime / try_cast make such a value null, and the row is then left out"
        )
    if " fails for " in reason or reason.endswith(" fails"):
        if "strptime" in reason:
            return (
                "the value does not fit the format: %d day, %m month (%b Jan), %Y year (%y two digits), "
                "%H hour, %M minute, %S second; several formats: try_strptime(x, ['%d/%m/%Y', '%Y-%m-%d'])"
            )
        return (
            "the expression cannot convert this value (text read as a number must be one): correct the file "
            "or the expression; try_cast(...) leaves such a value empty instead"
        )
    if "is not a valid timestamptz" in reason and re.match(r"'-?\d{9,13}(\.\d+)?' ", reason):
        return (
            "an epoch time: to_timestamp(cast(<column> as bigint)) for seconds, "
            "timezone('UTC', epoch_ms(cast(<column> as bigint))) for milliseconds"
        )
    day_month = re.match(f"'({DAY_MONTH})' ", reason)
    if (
        "is not a valid date" in reason
        and day_month
        and all(1 <= int(number) <= 12 for number in re.findall("[0-9]+", day_month[1])[:2])
    ):
        return (
            "day and month cannot be told apart (both 12 or less): set dedupe.date_order to dmy or mdy, "
            "or read the layout with strptime(<column>, '%d/%m/%Y')"
        )
    if "is not a valid date" in reason:
        return "read its layout with strptime(<column>, '<format>'), e.g. strptime(birthday, '%d %b %Y')"
    if "is not a valid timestamptz" in reason:
        return "read its layout with strptime(<column>, '<format>'), e.g. strptime(InvoiceDate, '%m/%d/%Y %H:%M')"
    if "is not a valid decimal" in reason or "is not a valid double" in reason:
        return "remove currency signs and thousands separators, e.g. replace(replace(x, '¥', ''), ',', '')"
    if "is not a valid boolean" in reason:
        return "map it to true/false, e.g. x in ('Y', '是', '1')"
    if "is in the future" in reason:
        return "check the time zone (timezone:) and the order of day and month"
    if "is not one of" in reason:
        return "map the source's own values: case upper(status) when 'SUCCESS' then 'paid' … end"
    if "the mapping gave none" in reason or reason == "missing":
        return "this field is required: map it from a column that has a value on every row"
    if reason.startswith("no customer reference"):
        return "map customer_ref, email, phone or device_id from a column that has values"
    return None


# What libpq says of a connection lost while rows stream in (FATAL: the server ended the session); any other error
# there (division by zero, a bad cast, a statement timeout) is the query's: another try would fail the same way.
CONNECTION_LOST = ("FATAL:", "server closed the connection", "could not receive data", "connection to server")


def postgres_stream_error(source: str, error: Exception) -> Exception | None:
    """What an error DuckDB raised reading a PostgreSQL source's rows is: a ConnectionError (retried) when the
    connection was lost, a DataError when the query failed; None when it is not libpq's."""
    said = str(error)
    if "[libpq]" not in said:
        return None
    libpq = said[said.index("[libpq]") :].splitlines()[0]
    if any(lost in libpq for lost in CONNECTION_LOST):
        return ConnectionError(f"source {source!r}: PostgreSQL read failed while reading its rows: {libpq}")
    return DataError(f"source {source!r}: PostgreSQL query failed while reading its rows: {libpq}")
