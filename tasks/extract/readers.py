"""Readers: one file (csv, jsonl, parquet, xlsx) as a select, one database batch (postgres) into a temp table.

Every reader adds lineage `_file` and `_row` (1-based data row). Text files in another encoding
(and JSON Lines starting with a UTF-8 BOM, which DuckDB's JSON reader refuses) are transcoded to UTF-8
in a streaming pass first, into a scratch file that never has a name on disk (tasks.shared.files.
scratch_file): a run killed while it reads one leaves no plain-text copy of names and phones behind.
An undecodable byte is a DataError naming the file, line, byte and encoding, never mojibake in the
warehouse and never a UnicodeDecodeError.
"""

import codecs
import glob
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from tasks.extract.diagnose import (
    diagnose_conversion,
    diagnose_csv,
    diagnose_jsonl,
    is_read_error,
    long_line,
    mixed_line_endings,
    reader_error,
)
from tasks.extract.encodings import SAMPLE_BYTES, looks_like_utf8, misread_chinese, mixed_utf8, text_sample
from tasks.extract.excel import read_excel, unread_warning
from tasks.extract.unreadable import unreadable_names
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.errors import DataError, with_path
from tasks.shared.files import UTF8_BOM, binary_format, glob_literal, not_utf8, scratch_file, western_from
from tasks.shared.scratch import scratch
from tasks.shared.warehouse import Warehouse

# Reader options a config may pass through. Options that silently drop rows (ignore_errors) are not here.
READER_OPTIONS = {
    "csv": {
        "delim",
        "sep",
        "quote",
        "escape",
        "header",
        "skip",
        "comment",
        "nullstr",
        "new_line",
        "max_line_size",
    },
    "jsonl": {"maximum_object_size", "sample_size", "date_format", "timestamp_format"},
    "parquet": {"binary_as_string"},
    "xlsx": {"sheet_name", "sheet_id"},
    "postgres": set(),
}
T = TypeVar("T")
# DuckDB before 2.0 reads a JSON time with an offset as the UTC time without its zone (see reader_options).
JSON_DROPS_OFFSETS = int(duckdb.__version__.split(".")[0]) < 2
NO_TIMESTAMP_FORMAT = "no time matches %Y"
UTF8_NAMES = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig"}
CSV_DIALECT = {"delim": ",", "quote": '"', "escape": '"', "comment": "", "header": True, "skip": 0}


@dataclass(frozen=True)
class SourceFile:
    """A file of a source as found on disk, with what identifies its content."""

    path: Path
    name: str  # lineage name: relative to the config's folder, absolute when outside it
    size: int
    mtime_ns: int
    # the inode's change time: set by the system on every write or replacement, not by `touch -r` or a copy that
    # keeps the mtime, so a file rewritten to the same size and mtime is still seen as changed (None: unknown)
    ctime_ns: int | None = None


class UnreadableFiles(DataError):
    """Names a source's path matches, or folders on its way, that cannot be read (a broken link, no permission)."""


def source_files(config: PipelineConfig, source: SourceConfig) -> list[SourceFile]:
    """The files a source's glob matches, sorted; a DataError if there are none, UnreadableFiles if a name it
    matches or a folder on its way cannot be read (tasks.extract.unreadable)."""
    pattern = str(config.resolve(Path(source.path)))
    matched = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
    base = config.base_dir.resolve()
    # a file that cannot be read is not a file gone: its loaded rows would leave the warehouse with it
    unreadable = [
        f"{_relative(path.parent.resolve() / path.name, base)} ({why})"  # a link by its own name
        for path, why in unreadable_names(Path(pattern), matched)
    ]
    if unreadable:
        it, its = ("it", "its") if len(unreadable) == 1 else ("them", "their")
        raise UnreadableFiles(
            f"source {source.name!r}: {'; '.join(unreadable)}: the source's path matches {it} but {it} cannot be "
            f"read. Make {it} readable, or move {it} out of the source's folder if {its} rows are to leave the "
            "warehouse"
        )
    paths = [path for path in matched if path.is_file()]
    if not paths:
        raise DataError(f"source {source.name!r}: no files match {pattern}")
    found = []
    for path in paths:
        stat = path.stat()
        name = _relative(path.resolve(), base)
        found.append(SourceFile(path, name, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    return found


def _relative(path: Path, base: Path) -> str:
    """A file's name in lineage and messages: relative to the config's folder, absolute when outside it."""
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


@contextmanager
def utf8_copy(
    path: Path,
    encoding: str,
    work_dir: Path,
    max_lines: int | None = None,
    quote: str = '"',
    *,
    declared_utf8: bool = False,
) -> Iterator[Path]:
    """Transcode a text file to UTF-8 in a streaming pass; yields the copy's path, valid inside the block.

    A DataError names the file, line and encoding of a byte that does not decode. The copy is a
    scratch file without a name on disk (see tasks.shared.files.scratch_file), gone when the block
    exits or the process dies. declared_utf8: the file is declared UTF-8 (a JSON Lines file with a
    BOM): the pass drops the BOM and checks the bytes. max_lines: copy only the file's first lines,
    up to the last one that ends a record (outside quote characters `quote`): a sample of its head
    (the preflight check).
    """
    if not declared_utf8:
        # the head's text only for a head's copy (preflight), else the file's from its first non-ASCII byte
        sample = text_sample(path, scan=None if max_lines is None else SAMPLE_BYTES)
        if looks_like_utf8(path, sample):
            # GBK in particular decodes most UTF-8 Chinese without an error, into mojibake (张三 -> 寮犱笁)
            raise DataError(
                f"{path}: declared {encoding} but its text is UTF-8 (multi-byte UTF-8 sequences throughout); "
                "set the source's `encoding` to utf-8"
            )
        if reason := misread_chinese(path, encoding, sample):
            raise DataError(reason)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line, offset = 1, 0
    with path.open("rb") as src, scratch_file(work_dir, f".utf8{path.suffix}") as (handle, readable):
        if declared_utf8 and src.read(len(UTF8_BOM)) == UTF8_BOM:
            offset = len(UTF8_BOM)  # dropped; positions in messages stay those of the file
        else:
            src.seek(0)
        # a newline byte is never part of a multi-byte character in these encodings: a file's head is its first lines
        chunks = iter(lambda: src.read(1 << 22), b"") if max_lines is None else [_head(src, max_lines, quote)]
        try:
            for chunk in chunks:
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = offset + exc.start
                    line += chunk[: exc.start].count(b"\n")
                    likely = "cp1252 or latin-1" if western_from(chunk, exc.start) else "gb18030, big5, utf-8"
                    raise DataError(
                        f"{path}: cannot be read as {encoding} (line {line}, byte {bad}: "
                        f"{chunk[exc.start : exc.start + 4]!r}). "
                        f"Set the source's `encoding` to the file's real encoding (e.g. {likely})."
                    ) from None
                if not declared_utf8 and (mixed := mixed_utf8(path, chunk, encoding, line)):
                    raise DataError(mixed)
                handle.write((text.removeprefix("\ufeff") if offset == 0 else text).encode("utf-8"))
                line += chunk.count(b"\n")
                offset += len(chunk)
            try:
                handle.write(decoder.decode(b"", final=True).encode("utf-8"))
            except UnicodeDecodeError:
                raise DataError(
                    f"{path}: ends inside a multi-byte {encoding} character (truncated file?)"
                ) from None
            handle.flush()
        except OSError as error:  # a full disk: say where the copy was being written
            raise with_path(error, work_dir) from None
        yield readable


def _head(handle: Any, lines: int, quote: str) -> bytes:
    """The first lines of a binary file, up to the last line end outside quotes (a whole number of records)."""
    head = b"".join(line for _, line in zip(range(lines), handle, strict=False))
    if not quote or not head.endswith(b"\n"):
        return head  # JSON Lines (a line is a record), or the whole file
    mark = quote.encode()
    end = len(head)
    while end > 0 and head[:end].count(mark) % 2:
        end = head.rfind(b"\n", 0, end - 1) + 1
    return head[:end]


def reader_options(source: SourceConfig) -> str:
    """Reader options as SQL named arguments; values are rendered as literals after a type check."""
    allowed = READER_OPTIONS[source.format]
    parts = []
    options = dict(source.options)
    if source.format == "csv":
        # The standard dialect unless the config says otherwise: letting DuckDB guess it can take a
        # '#' in the first column for a comment (rows silently dropped), a broken quote for data, or a data row
        # with one field too many for the header (the lines before it skipped).
        given = set(options) | ({"delim"} if "sep" in options else set())
        options |= {key: value for key, value in CSV_DIALECT.items() if key not in given}
    if source.format == "jsonl" and JSON_DROPS_OFFSETS and "timestamp_format" not in options:
        # DuckDB 1.x types a JSON column of times with offsets as TIMESTAMP, the UTC time without its zone,
        # which staging would then read in the source's time zone: no format matches a time, so times stay
        # text and staging parses them with their offsets, as it does CSV text (2.0 keeps the offset itself).
        options["timestamp_format"] = NO_TIMESTAMP_FORMAT
    for key, value in sorted(options.items()):
        if key not in allowed and key not in CSV_DIALECT:
            raise DataError(
                f"source {source.name!r}: reader option {key!r} is not supported for {source.format} "
                f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
            )
        if source.format == "xlsx":
            continue  # passed to the Excel reader in Python
        if isinstance(value, bool):
            parts.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            parts.append(f"{key} = {value}")
        elif isinstance(value, str):
            parts.append(f"{key} = '{value.replace(chr(39), chr(39) * 2)}'")
        else:
            raise DataError(
                f"source {source.name!r}: reader option {key!r} must be a string, number or boolean"
            )
    return "".join(f", {p}" for p in parts)


def repeated_columns(source: SourceConfig, path: str) -> list[tuple[str, list[int], list[str]]]:
    """The header names a CSV file gives more than one column (DuckDB binds names case-insensitively): each
    name, its columns' positions (1-based) and the names DuckDB gives the later ones (`Name_1`, `name_2`), so
    a mapping of the name reads the first. Empty for a file without a header row."""
    if source.format != "csv" or not source.options.get("header", True):
        return []
    unheaded = source.model_copy(update={"options": {**source.options, "header": False}})
    # on a connection of its own: a failed statement would end the warehouse's transaction
    with scratch() as con:
        try:
            header = con.execute(
                f"select * from read_csv(?, all_varchar = true{reader_options(unheaded)}) limit 1", [path]
            ).fetchall()
        except duckdb.Error:  # the file's own read says what is wrong with it, naming the row
            return []
    places: dict[str, list[int]] = {}
    for index, name in enumerate(header[0] if header else (), start=1):
        if name is not None:
            places.setdefault(name.lower(), []).append(index)
    names = header[0] if header else ()
    return [
        (names[p[0] - 1], p, [f"{names[q - 1]}_{n}" for n, q in enumerate(p[1:], start=1)])
        for p in places.values()
        if len(p) > 1
    ]


def read_file(
    wh: Warehouse,
    source: SourceConfig,
    file: SourceFile,
    work_dir: Path,
    load: Callable[[str, Mapping[str, Any]], T],
    limit: int | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> T:
    """Read one file: `load(select, params)` gets a select of its rows plus `_file` and `_row`, and its named parameters.

    The select reads the file when load runs it (no copy in between), so a file DuckDB cannot
    parse fails inside load and becomes a DataError naming the file here. Returns what load returns.
    limit: read only the file's first rows (a sample, for the preflight check).
    logger: where a workbook's sheets that hold rows the source does not read are named.
    """
    if file.size == 0:
        raise DataError(f"source {source.name!r}: file {file.name} is empty (0 bytes)")
    options = reader_options(source)
    readable = file.path
    select, params = "", {}
    with ExitStack() as scratch:  # a transcoded copy lives until the file is read (or has failed)
        try:
            if source.format == "xlsx":
                unread = read_excel(wh, source, file, "_excel_sheet", limit)
                if unread and logger is not None:
                    logger.warning(unread_warning(source, file, unread))
                try:
                    return load("select * from _excel_sheet", {})
                finally:
                    wh.execute("drop table if exists _excel_sheet")
            if source.format == "parquet":
                select = (
                    "select * exclude (file_row_number), $file as _file, file_row_number + 1 as _row "
                    f"from read_parquet($path, file_row_number = true, hive_partitioning = false{options})"
                    + limit_clause(limit)
                )
                params = {"file": file.name, "path": glob_literal(file.path)}
                return load(select, params)
            # csv or jsonl (a workbook under their config says so); a sample needs the head only: enough lines
            if not file.path.name.lower().endswith(COMPRESSED) and (binary := binary_format(file.path)):
                raise DataError(f"source {source.name!r}: {file.name} is no {source.format}: {binary}")
            lines = None if limit is None else 2 * limit + 100
            quote = str(source.options.get("quote", CSV_DIALECT["quote"])) if source.format == "csv" else ""
            if source.encoding.lower() not in UTF8_NAMES:
                readable = scratch.enter_context(
                    utf8_copy(file.path, source.encoding, work_dir, lines, quote)
                )
            elif source.format == "jsonl" and _starts_with_bom(file.path):
                # DuckDB's JSON reader stops at a BOM: read a copy without it (the pass also checks the UTF-8)
                readable = scratch.enter_context(
                    utf8_copy(file.path, source.encoding, work_dir, lines, quote, declared_utf8=True)
                )
            if source.format == "jsonl" and limit is None and "sample_size" not in source.options:
                # a field's type from every line, not from the first 20,480: a number there and text further
                # on is JSON (staging reads both), where the sample's type failed the read at that line
                options += ", sample_size = -1"
            reader = (
                f"read_csv($path, all_varchar = true{options})"
                if source.format == "csv"
                else f"read_json($path, format = 'newline_delimited'{options})"
            )
            if limit is not None:  # the file's first rows, in file order, numbered like a full read
                reader = f"(select * from {reader}{limit_clause(limit)})"
            select = f"select *, $file as _file, row_number() over () as _row from {reader}"
            params = {"file": file.name, "path": glob_literal(readable)}
            return load(select, params)
        except duckdb.Error as exc:
            if not is_read_error(exc, source.format):
                raise
            compressed = file.path.name.lower().endswith(COMPRESSED)  # its bytes are not the text's
            reason = None if compressed else long_line(readable, str(exc))
            if source.format == "csv" and not compressed and "invalid unicode" in str(exc).lower():
                # DuckDB's own line count and new-line guess are wrong here ("Single-Line File"): find the byte
                reason = not_utf8(readable)
            if reason is None and source.format == "csv" and "sniffing" in str(exc):
                reason = diagnose_csv(readable, options)
            elif source.format == "jsonl" and not isinstance(exc, duckdb.ConversionException):
                reason = diagnose_jsonl(readable)
            if reason is None and isinstance(exc, duckdb.ConversionException) and select:
                reason = diagnose_conversion(select, params, reader_error(exc))
            if source.format == "csv" and not compressed and "invalid state" in (reason or str(exc)):
                reason = mixed_line_endings(readable) or reason  # DuckDB names neither the line nor the cause
            reason = (
                (reason or reader_error(exc))
                .replace(glob_literal(readable), file.name)
                .replace(str(readable), file.name)
            )
            if source.format in ("csv", "jsonl") and not ends_a_line(file.path):
                reason += "; the file does not end with a line break: it may be truncated (cut off, or still being written)"
            encoding = f" (encoding {source.encoding})" if source.format in ("csv", "jsonl") else ""
            raise DataError(
                f"source {source.name!r}: cannot read {file.name} as {source.format}{encoding}: {reason}"
            ) from None


COMPRESSED = (".gz", ".zst", ".bz2", ".xz", ".zip")


def ends_a_line(path: Path) -> bool:
    """Whether a file's last character is a line break (every complete CSV or JSONL file a tool writes ends
    so), in an 8-bit encoding or in UTF-16 (its last byte a NUL); an empty file counts as one, and a
    compressed file is not looked into (True)."""
    if path.suffix.lower() in COMPRESSED:
        return True
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 2))
        tail = handle.read()
    return size == 0 or tail.rstrip(b"\x00").endswith((b"\n", b"\r"))


def _starts_with_bom(path: Path) -> bool:
    """Whether a file starts with the UTF-8 byte-order mark."""
    with path.open("rb") as handle:
        return handle.read(len(UTF8_BOM)) == UTF8_BOM


def limit_clause(limit: int | None) -> str:
    """A SQL limit clause for a sample of limit rows, or nothing."""
    return "" if limit is None else f" limit {int(limit)}"
