"""readers.misread_chinese: Big5 text declared in a GB encoding (and the reverse), told from a sample of its text."""

from pathlib import Path

import pytest

from tasks.extract.encodings import looks_like_utf8, misread_chinese, text_sample
from tasks.extract.readers import utf8_copy
from tasks.shared.errors import DataError

NAMES = "張志明,陳美玲,林國華,黃淑芬,吳建宏,劉雅婷,蔡俊傑,楊怡君,許家豪,鄭佩珊,謝冠宇,郭詩涵"


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_a_few_big5_names_read_as_gb18030_are_told_by_their_private_use_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", ("id,name\n" + NAMES.replace(",", "\n")).encode("big5"))
    reason = misread_chinese(path, "gb18030")
    assert reason is not None
    assert reason.startswith(f"{path}: declared gb18030 but its text reads as cp950: read as gb18030, ")


def test_a_windows_big5_character_does_not_hide_big5_text(tmp_path: Path) -> None:
    text = "id,name\n9,黃碁明\n" + "\n".join(f"{i},{name}" for i, name in enumerate(NAMES.split(",") * 10))
    path = write(tmp_path, "b.csv", text.encode("cp950"))  # 碁 is cp950 only: big5 cannot decode it
    reason = misread_chinese(path, "gb18030")
    assert reason is not None and "set the source's `encoding` to cp950" in reason


def test_gbk_text_read_as_big5_is_told(tmp_path: Path) -> None:
    text = "编号,姓名,城市\n" + "".join(f"{i},张伟{i % 10},北京市朝阳区\n" for i in range(40))
    path = write(tmp_path, "c.csv", text.encode("gbk"))
    assert misread_chinese(path, "gbk") is None
    reason = misread_chinese(path, "big5")
    # GBK bytes of everyday text are rarely valid Big5: the strict read fails and the transcoding says so
    assert reason is None or "reads as gb18030" in reason


def test_text_in_its_own_encoding_and_other_codecs_pass(tmp_path: Path) -> None:
    big5 = write(tmp_path, "d.csv", ("id,name\n" + NAMES.replace(",", "\n") * 10).encode("big5"))
    assert misread_chinese(big5, "big5") is None
    assert misread_chinese(big5, "latin-1") is None  # not a Chinese encoding: nothing to tell


# An export whose first megabyte is ASCII: ids, dates and English values come first, the names later.
ASCII_LINES = "".join(f"{i},2026-11-{i % 28 + 1:02d},member\n" for i in range(60_000))


def test_big5_text_after_a_megabyte_of_ascii_is_told(tmp_path: Path) -> None:
    text = (
        "id,joined,tier\n"
        + ASCII_LINES
        + "".join(f"{i},{name}\n" for i, name in enumerate(NAMES.split(",") * 30))
    )
    assert len(ASCII_LINES) > 1 << 20
    path = write(tmp_path, "late.csv", text.encode("big5"))
    reason = misread_chinese(path, "gb18030")
    assert reason is not None
    assert reason.startswith(f"{path}: declared gb18030 but its text reads as cp950: read as gb18030, ")


def test_utf8_text_after_a_megabyte_of_ascii_is_told(tmp_path: Path) -> None:
    path = write(tmp_path, "late.csv", ("id,joined,tier\n" + ASCII_LINES + "9,张三,北京\n").encode("utf-8"))
    assert looks_like_utf8(path)
    gbk = write(tmp_path, "gbk.csv", ("id,joined,tier\n" + ASCII_LINES + "9,张三,北京\n").encode("gbk"))
    assert not looks_like_utf8(gbk)
    ascii_only = write(tmp_path, "ascii.csv", ASCII_LINES.encode())
    assert not looks_like_utf8(ascii_only)
    assert misread_chinese(ascii_only, "gbk") is None


def test_a_sample_starts_at_the_first_non_ascii_byte(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", b"a" * 3_000_000 + "張".encode("big5") + b"b" * 10)
    assert text_sample(path, 1 << 20) == "張".encode("big5") + b"b" * 10
    assert text_sample(write(tmp_path, "t.csv", b"x" * 10), 1 << 20) == b""
    long = write(tmp_path, "u.csv", "é".encode() * 1_000_000)
    assert text_sample(long, 1 << 20) == "é".encode() * (1 << 19)


def test_the_transcoding_refuses_late_text_in_another_encoding(tmp_path: Path) -> None:
    big5 = write(
        tmp_path, "late.csv", ("id,name\n" + ASCII_LINES + NAMES.replace(",", "\n") * 30).encode("big5")
    )
    refused = r"late\.csv: declared gb18030 but its text reads as cp950"
    with pytest.raises(DataError, match=refused), utf8_copy(big5, "gb18030", tmp_path):
        pass
    utf8 = write(tmp_path, "late8.csv", ("id,name\n" + ASCII_LINES + "9,张三\n").encode("utf-8"))
    with (
        pytest.raises(DataError, match=r"late8\.csv: declared gbk but its text is UTF-8"),
        utf8_copy(utf8, "gbk", tmp_path),
    ):
        pass


def test_a_few_gbk_characters_that_are_valid_utf8_do_not_make_a_file_utf8(tmp_path: Path) -> None:
    assert "谢".encode("gbk").decode("utf-8") == "л"  # its two GBK bytes are a UTF-8 character
    path = write(tmp_path, "x.csv", ("id,name\n" + ASCII_LINES + "9,谢\n").encode("gbk"))
    assert not looks_like_utf8(path)
    with utf8_copy(path, "gbk", tmp_path) as copy:
        assert copy.read_bytes().decode("utf-8").endswith("9,谢\n")
    assert looks_like_utf8(write(tmp_path, "y.csv", "id,name\n9,张三\n".encode()))  # two Chinese characters
    latin = "id,name\n1,José Muñoz\n2,Peña Álvarez\n3,François Müller\n4,Zoë Ångström\n"
    assert looks_like_utf8(write(tmp_path, "z.csv", latin.encode()))  # eight accented letters
    # fewer than eight, none Chinese: too little to tell from GBK that happens to be valid UTF-8 (茅 is é)
    assert not looks_like_utf8(write(tmp_path, "w.csv", "id,name\n1,José Muñoz\n".encode()))


def test_a_head_check_looks_for_text_in_the_head_only(tmp_path: Path) -> None:
    path = write(tmp_path, "late.csv", ("id,name\n" + ASCII_LINES * 2 + "9,张三\n").encode("utf-8"))
    assert text_sample(path, scan=1 << 20) == b""
    with utf8_copy(path, "gbk", tmp_path, max_lines=3) as copy:  # the preflight's sample of the head
        assert copy.read_bytes().startswith(b"id,name\n0,")
    with (
        pytest.raises(DataError, match="declared gbk but its text is UTF-8"),
        utf8_copy(path, "gbk", tmp_path),
    ):
        pass
