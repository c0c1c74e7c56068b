"""Which encoding a text file's bytes are in, against the one its source declares.

GBK and GB18030 decode most UTF-8 Chinese without an error (张三 -> 寮犱笁), GB18030 decodes every Big5 byte pair
(會員 -> 穦絪) and Big5 decodes much GB text: a strict decode alone lets such a file through as mojibake. These
checks read a sample of the file's text before the streaming transcoding (readers.utf8_copy). The sample starts
at the first non-ASCII byte, wherever it is: an export whose first megabyte is ASCII (ids, dates, English
column values) is judged by its Chinese text, not by nothing.
"""

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from tasks.shared.files import everyday_chinese, western_text

SAMPLE_BYTES = 1 << 20
NON_ASCII = re.compile(rb"[\x80-\xff]")
# looks_like_utf8 calls text UTF-8 from this many non-ASCII characters, or this many of three bytes or more.
MIN_UTF8_CHARACTERS, MIN_UTF8_WIDE = 8, 2


def text_sample(path: Path, size: int = SAMPLE_BYTES, scan: int | None = None) -> bytes:
    """Up to `size` bytes of the file from its first non-ASCII byte; empty for an all-ASCII file.

    Every byte before the first non-ASCII one is a whole ASCII character (the lead byte of a GBK, Big5 or
    UTF-8 character is never ASCII), so the sample starts on a character boundary. scan: look for that
    byte in the first `scan` bytes only (a check of the file's head); default the whole file, skipping
    ASCII chunks at memory speed.
    """
    read = 0
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            read += len(chunk)
            if chunk.isascii():
                if scan is not None and read >= scan:
                    break
                continue
            found = NON_ASCII.search(chunk)
            sample = chunk[found.start() :] if found else chunk
            return sample + handle.read(size - len(sample))
    return b""


def looks_like_utf8(path: Path, sample: bytes | None = None) -> bool:
    """Whether the file's non-ASCII text (a sample from its first non-ASCII byte) is valid UTF-8.

    Text in GBK, GB18030 or Big5 is practically never valid UTF-8 once it has a few Chinese characters,
    so a file declared in one of them that decodes as UTF-8 was declared wrongly. A few GBK characters
    are valid UTF-8 by chance (谢 is the bytes of л): the text must hold MIN_UTF8_CHARACTERS non-ASCII
    characters, or MIN_UTF8_WIDE of three or more bytes (Chinese in UTF-8), before it counts as UTF-8.
    sample: text_sample of the file, when the caller has it.
    """
    sample = text_sample(path) if sample is None else sample
    if sample.startswith(b"\xef\xbb\xbf"):
        return True
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(
            sample, final=False
        )  # a cut last character is fine
    except UnicodeDecodeError:
        return False
    wide = [char for char in text if ord(char) > 127]
    return len(wide) >= MIN_UTF8_CHARACTERS or sum(ord(char) >= 0x800 for char in wide) >= MIN_UTF8_WIDE


# Chinese encodings whose text the other's decoder often reads without an error, into other characters.
GB_CODECS, BIG5_CODECS = ("gb2312", "gbk", "gb18030"), ("big5", "cp950", "big5hkscs")
# misread_chinese tells only from this many non-ASCII characters (a few names can look like either), or from
# this many private-use ones (what GB18030 makes of Big5 bytes).
MIN_CHINESE, MIN_PRIVATE_USE = 200, 5
CODEC_NOTES = {"cp950": " (Big5 with the characters Windows adds, such as 碁)"}


def _big5_common(char: str) -> bool:
    """Whether a character is a Big5 symbol or level-1 (frequently used) character."""
    try:
        code = char.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(code) == 2 and 0xA1 <= code[0] <= 0xC6


def _common_share(
    sample: bytes, encoding: str, common: Callable[[str], bool]
) -> tuple[float, str, int, int] | None:
    """A sample of a file's text read in encoding: (share of everyday characters among its first non-ASCII ones, the first of
    them, how many, how many private-use ones); None when it does not decode or has no non-ASCII character."""
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    chars = [char for char in text if ord(char) > 127][:20_000]
    if not chars:
        return None
    private = sum(
        "\ue000" <= char <= "\uf8ff" for char in chars
    )  # never in a real export: another encoding's
    return sum(map(common, chars)) / len(chars), "".join(chars[:8]), len(chars), private


def misread_chinese(path: Path, encoding: str, sample: bytes | None = None) -> str | None:
    """Why a file declared in a GB encoding is Big5 text, or one declared Big5 is GB text; None when it is not.

    Big5 bytes often decode as GB18030 (and at times as GBK) without an error, into rare characters and
    private-use code points (會員 -> 穦絪), and GB text often decodes as Big5. Everyday text is nearly all
    common characters of its own encoding (over 99% in GB2312, or Big5 symbols and level 1): a sample whose
    characters are mostly uncommon as declared, and common read the other way, is the other encoding.
    """
    name = codecs.lookup(encoding).name
    if name in GB_CODECS:  # cp950: Big5 as Windows writes it, with the ETEN characters (碁 銹 裏) big5 lacks
        other, declared_common, other_common = "cp950", everyday_chinese, _big5_common
    elif name in BIG5_CODECS:
        other, declared_common, other_common = "gb18030", _big5_common, everyday_chinese
    else:
        return None
    sample = text_sample(path) if sample is None else sample
    declared = _common_share(sample, encoding, declared_common)
    if declared is not None and declared[0] < 0.3 and western_text(sample):
        return (
            f"{path}: declared {encoding} but its text is Western European (cp1252 or latin-1): read as {encoding}, "
            f"{declared[0]:.0%} of its {declared[2]:,} non-ASCII characters are everyday Chinese ones ({declared[1]} "
            "...); set the source's `encoding` to cp1252 (Windows: é, £, €) or latin-1"
        )
    if (
        declared is None
        or declared[0] >= 0.7
        or (declared[2] < MIN_CHINESE and declared[3] < MIN_PRIVATE_USE)
    ):
        return None
    found = _common_share(sample, other, other_common)
    if found is None or found[0] < 0.9:
        return None
    return (
        f"{path}: declared {encoding} but its text reads as {other}: read as {encoding}, {declared[0]:.0%} of its "
        f"Chinese characters are common ones ({declared[1]} ...), read as {other} {found[0]:.0%} ({found[1]} ...); "
        f"set the source's `encoding` to {other}{CODEC_NOTES.get(other, '')}"
    )


# Two or more UTF-8 characters of the common CJK block (three bytes each, leads E4-E9) in a row; found by their first
# two (a fixed-length pattern scans GBK text 8x faster: 0.03 s per 10 MB).
UTF8_CHINESE_PAIR = re.compile(rb"[\xe4-\xe9][\x80-\xbf][\x80-\xbf][\xe4-\xe9][\x80-\xbf][\x80-\xbf]")
UTF8_CHINESE_RUN = re.compile(rb"(?:[\xe4-\xe9][\x80-\xbf]{2}){2,}")


def utf8_run(chunk: bytes, encoding: str) -> tuple[int, str, str] | None:
    """The first run of UTF-8 Chinese in a chunk of a file declared in a GB encoding: (its offset in the chunk, its
    text, what the declared encoding reads instead), or None. The file-wide check (looks_like_utf8) judges a
    sample; a single row pasted from a UTF-8 program into a GBK export would pass it and be staged as mojibake
    (张三 as 寮犱笁). A run counts when it starts on a character boundary of the declared encoding (its line read
    from the start), its UTF-8 reading is everyday Chinese (GB2312) and the declared reading is mostly not:
    genuine GB text whose bytes happen to form UTF-8 is everyday text as declared."""
    if codecs.lookup(encoding).name not in GB_CODECS:
        return None
    for pair in UTF8_CHINESE_PAIR.finditer(chunk):
        match = UTF8_CHINESE_RUN.match(chunk, pair.start())
        assert match is not None  # a pair is a run
        text = match.group().decode("utf-8")
        if not all(map(everyday_chinese, text)):
            continue
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        start = max(chunk.rfind(b"\n", 0, match.start()), chunk.rfind(b"\r", 0, match.start())) + 1
        decoder.decode(chunk[start : match.start()])
        if decoder.getstate()[0]:
            continue  # the run starts inside a character as declared
        read = match.group().decode(encoding, errors="replace")
        wide = [char for char in read if ord(char) > 127]
        if sum(map(everyday_chinese, wide)) < len(wide) / 2:
            return match.start(), text, read
    return None


def mixed_utf8(path: Path, chunk: bytes, encoding: str, line: int) -> str | None:
    """Why a chunk of a file declared in a GB encoding holds a row of UTF-8 (utf8_run), naming the line (line: the
    chunk's first); None when it does not."""
    if (run := utf8_run(chunk, encoding)) is None:
        return None
    at, utf8, read = run
    line += chunk[:at].count(b"\n")
    return (
        f"{path}: line {line} holds UTF-8 text in a file declared {encoding}: {utf8!r} "
        f"would be read as {read!r} (a row written by another program). Convert that line to {encoding}, or the "
        "file to UTF-8 and set the source's `encoding` to utf-8."
    )
