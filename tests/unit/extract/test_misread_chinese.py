"""readers.misread_chinese: Big5 text declared in a GB encoding (and the reverse), told from the file's head."""

from pathlib import Path

from tasks.extract.readers import misread_chinese

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
