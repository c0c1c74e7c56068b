"""Files the pipeline writes or fingerprints: written atomically (temp name, fsync, owner-only, rename), hashed in chunks.

A write that fails or is interrupted removes its temporary file, and an OSError names the file it was
writing (a full disk says which one). Scratch copies of personal data (transcoded source files) never
have a name on disk: a kill at any moment leaves nothing behind (`scratch_file`).
"""

import codecs
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import polars as pl

from tasks.shared.errors import with_path
from tasks.shared.text import sized

UTF8_BOM = b"\xef\xbb\xbf"
OS_ERROR = re.compile(r"\(os error (\d+)\)")
PROC_FD = Path("/proc/self/fd")  # Linux: an open file, even one without a name, by path


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        raise with_path(error, path) from None
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: Path, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    """A handle on a temporary name next to path; on success: flushed, fsynced, 0600, renamed to path.

    The temporary name (`.<name>.<random>.tmp`) is this writer's own: two writers of one path (a shard given
    up on and the stage writing the same part) never write into one file; the last rename leaves a whole one.

    On any exit without success (an error, a KeyboardInterrupt, Prefect's SIGTERM bridge) the
    temporary file is removed; an I/O error is an OSError naming path (a full disk: `[Errno 28] No
    space left on device: '<path>'`, not retried).
    """
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise with_path(error, path) from None
        if found := OS_ERROR.search(str(error)):  # polars reports an I/O error as text: "(os error 28)"
            raise with_path(OSError(int(found[1]), os.strerror(int(found[1]))), path) from error
        raise


def write_file(frame: pl.DataFrame, path: Path, header: bool = True) -> None:
    """Write frame as CSV (UTF-8 with BOM, for Excel) or Parquet by suffix: temp name, fsync, 0600, rename.

    header=False: a CSV part that is joined after a header (tasks/publish/shards.py): no BOM, no header row.
    """
    if path.suffix not in (".csv", ".parquet"):
        raise ValueError(f"no writer for {path.name}")
    with atomic_write(path, "wb") as handle:
        if path.suffix == ".csv":
            if header:
                handle.write(UTF8_BOM)
            frame.write_csv(handle, include_header=header)
        else:
            frame.write_parquet(handle)


def write_text(text: str, path: Path) -> None:
    """Write a text file the same way: temp name, fsync, 0600, rename."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(text)


# Non-ASCII characters of Western European text besides letters (cp1252's symbols)
WESTERN_SYMBOLS = frozenset("£€¥©®°±·«»–—‘’‚“”„…†‡•™¢§¶¿¡×÷µ")
MIN_WESTERN = 3  # non-ASCII characters before a text is judged Western
# ... or fewer, when each is a common one and the bytes are no double-byte text (a lone byte ÿ tells nothing)
COMMON_WESTERN = WESTERN_SYMBOLS | frozenset("àáâãäåçèéêëìíîïñòóôõöùúûüÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜ")


def western_from(chunk: bytes, start: int) -> bool:
    """Whether the text of a chunk from a byte that does not decode (start) is Western single-byte text: its
    next 64 KiB, cut at the last line break so that no character is cut (western_text)."""
    text = chunk[start : start + (1 << 16)]
    return western_text(text[: text.rfind(b"\n") + 1] or text)


def western_text(text: bytes) -> bool:
    """Whether bytes that are not UTF-8 are Western single-byte text (cp1252 or latin-1: café, £, CRÈME), not
    Chinese double-byte text: read as cp1252 their non-ASCII characters are letters and common symbols, and read
    as GB18030 they do not decode, or nearly none are everyday characters (GB2312): CRÈME BRÛLÉE reads as CR萂E BR跮蒃,
    where Chinese text is over 99% everyday characters."""
    try:
        latin = [char for char in text.decode("cp1252") if ord(char) > 127]
    except UnicodeDecodeError:  # cp1252 leaves five bytes undefined; latin-1 text never has them
        return False
    if not latin or sum(char.isalpha() or char in WESTERN_SYMBOLS for char in latin) < 0.9 * len(latin):
        return False
    try:
        # GB18030: GBK and its four-byte characters
        chinese = [char for char in text.decode("gb18030") if ord(char) > 127]
    except UnicodeDecodeError:  # no double-byte text: Western, however few its characters if common (one £)
        return len(latin) >= MIN_WESTERN or all(char in COMMON_WESTERN for char in latin)
    return len(latin) >= MIN_WESTERN and sum(map(everyday_chinese, chinese)) < 0.3 * len(chinese)


# The first bytes of files that are no text: a CSV or JSON source that is one of them names its real format.
BINARY_FORMATS = {
    b"PK\x03\x04": "a ZIP archive, as an Excel .xlsx workbook is: if it is one, set the source's `format` to xlsx",
    b"\xd0\xcf\x11\xe0": "an old Office file (an Excel .xls workbook?): save it as .xlsx and set `format: xlsx`",
    b"PAR1": "a Parquet file: set the source's `format` to parquet",
}


def binary_format(path: Path) -> str | None:
    """What a file is whose first bytes say it is no text (BINARY_FORMATS), as "it is no text but ..."; else None.
    PAR1 is text too (a code in a headerless CSV): a Parquet file also ends with it."""
    with path.open("rb") as handle:
        head = handle.read(8)
        handle.seek(max(path.stat().st_size - 4, 0))
        tail = handle.read(4)
    what = next((what for magic, what in BINARY_FORMATS.items() if head.startswith(magic)), None)
    if what is None or (head.startswith(b"PAR1") and tail != b"PAR1"):
        return None
    return f"it is no text but {what}"


def everyday_chinese(char: str) -> bool:
    """Whether a character is in GB2312 (the simplified characters and symbols of everyday text)."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def not_utf8(path: Path) -> str | None:
    """Why a file read as UTF-8 is not UTF-8: line and byte of the first sequence that does not decode, and a hint."""
    if binary := binary_format(path):  # a workbook says so from its first bytes, before its whole is decoded
        return binary
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset, western = 1, 0, False
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk[: exc.start].count(b"\n")
                where = f"line {line}, byte {offset + exc.start}: {chunk[exc.start : exc.start + 4]!r}"
                western = western_from(chunk, exc.start)
                break
            line += chunk.count(b"\n")
            offset += len(chunk)
        else:
            try:
                decoder.decode(b"", final=True)
                return None
            except UnicodeDecodeError:
                where = "it ends inside a multi-byte character (truncated file?)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        hint = "it starts with a UTF-16 byte-order mark: set the source's `encoding` to utf-16"
    elif b"\x00" in head:
        hint = (
            "it holds NUL bytes between characters, as UTF-16 does: set the source's `encoding` to utf-16-le"
        )
    elif western:  # café, £, CRÈME written as cp1252 or latin-1
        hint = (
            "it is not a Chinese double-byte text either; set the source's `encoding` to the file's real one, "
            "most likely cp1252 (Windows Western European: é, £, €) or latin-1"
        )
    else:
        hint = "set the source's `encoding` to the file's real encoding (e.g. gbk, gb18030, big5, utf-16)"
    return f"it cannot be read as utf-8 ({where}); {hint}"


def file_entry(path: Path, rows: int | None) -> dict[str, object]:
    """A manifest entry of a written file: rows (None for text), bytes and SHA-256."""
    return {"rows": rows, "bytes": path.stat().st_size, "sha256": file_hash(path)}


@contextmanager
def scratch_file(folder: Path, suffix: str = "") -> Iterator[tuple[IO[bytes], Path]]:
    """A private temporary file in folder, as (binary handle, a path other readers in this process can open).

    On Linux the file never has a name (O_TMPFILE, else unlinked right after it is created) and is
    read through /proc/self/fd: the kernel frees it when the handle closes or the process dies, so
    even a SIGKILL leaves nothing behind. folder is created if needed and removed again when empty.
    Elsewhere the file keeps its name until the block exits.
    """
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    named: Path | None = None
    try:
        try:
            fd = os.open(folder, os.O_TMPFILE | os.O_RDWR, 0o600)
        except (AttributeError, OSError):  # no O_TMPFILE here, or not on this file system
            fd, name = tempfile.mkstemp(suffix=suffix, dir=folder)
            named = Path(name)
            if PROC_FD.is_dir():
                named.unlink()
                named = None
        readable = PROC_FD / str(fd) if named is None else named
    finally:
        if created:
            _remove_if_empty(folder)
    handle = os.fdopen(fd, "w+b")
    try:
        yield handle, readable
    finally:
        with suppress(OSError):  # a copy being thrown away: a failed last flush (a full disk) is no news
            handle.close()
        if named is not None:
            named.unlink(missing_ok=True)
            _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> None:
    """Remove folder if it holds nothing (another file in it, or a second process using it, keeps it)."""
    with suppress(OSError):
        folder.rmdir()


GLOB_CHARACTERS = "*?["


def glob_literal(path: Path | str) -> str:
    """A path as DuckDB's readers take it literally: they expand * ? [ as a pattern (a file named s-*.parquet
    would read s-a.parquet too); each becomes a one-character class ([*])."""
    return "".join(f"[{char}]" if char in GLOB_CHARACTERS else char for char in str(path))


def literal_path(pattern: str) -> Path:
    """The path glob_literal made pattern of."""
    for char in GLOB_CHARACTERS:
        pattern = pattern.replace(f"[{char}]", char)
    return Path(pattern)


def short_of_space(path: Path, existing: Path, margin: int) -> str | None:
    """Why the disk of the warehouse file path (existing: its nearest existing folder) is short of space, or None.

    It is when it has less free than the warehouse (and its WAL) takes plus margin: a run writes a stage's new
    blocks before the old ones are freed, and a full refresh rewrites most tables, so it can stop half-way with
    'No space left on device' (nothing is lost: the stage rolls back). A link is measured where it points."""
    taken = sum(file.stat().st_size for file in (path, path.with_name(f"{path.name}.wal")) if file.is_file())
    free = shutil.disk_usage(path.resolve().parent if path.exists() else existing).free
    if free >= taken + margin:
        return None
    needed = f"the warehouse's {sized(taken)} and {sized(margin)} more" if taken else sized(margin)
    return (
        f"{sized(free)} free on its disk, less than {needed}: a run writes new blocks before it frees old ones and "
        "may stop with 'No space left on device'"
    )
