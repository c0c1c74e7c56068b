"""The transcoded copy of a source file (names, phones, birth dates in plain text) never has a name on
disk: nothing is left when a run is killed while DuckDB reads it; a full disk while transcoding names
the folder and is not retried; a conversion error names the column."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

import tasks.extract.raw
from tasks.extract import extract_all
from tasks.extract.readers import SourceFile, read_file
from tasks.shared.config import SourceConfig
from tasks.shared.errors import DataError, is_transient
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO
from tests.unit.extract.test_corpus import make_config

MEMBERS = "会员编号,姓名,手机,出生日期\nM1,张三,13800138000,1990-01-02\nM2,李四,13900139000,1985-03-04\n"
SOURCE = {
    "name": "crm",
    "kind": "customers",
    "format": "csv",
    "path": "crm/*.csv",
    "encoding": "gbk",
    "columns": {"source_id": '"会员编号"', "full_name": '"姓名"', "phone": '"手机"'},
}
PLAIN = "张三".encode()  # the UTF-8 bytes a transcoded copy holds; the GBK source file does not


def gbk_source(folder: Path) -> None:
    (folder / "crm").mkdir()
    (folder / "crm" / "members.csv").write_bytes(MEMBERS.encode("gbk"))


def plain_copies(folder: Path) -> list[str]:
    """Files under folder holding the members' names as UTF-8 (a transcoded copy), and extract work folders."""
    found = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and PLAIN in p.read_bytes()]
    return found + [str(p.relative_to(folder)) for p in folder.glob(".extract-*")]


def test_the_transcoded_copy_has_no_name_while_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gbk_source(tmp_path)
    config = make_config(tmp_path, [SOURCE])
    seen = []
    real_read = tasks.extract.raw.read_file

    def read_file_(wh, source, file, work_dir, load, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - the wrapped signature
        def look(select: str, params: dict) -> int:
            seen.append((plain_copies(tmp_path), wh.scalar(f"select count(*) from ({select})", params)))
            return load(select, params)

        return real_read(wh, source, file, work_dir, look, *args, **kwargs)

    monkeypatch.setattr(tasks.extract.raw, "read_file", read_file_)
    with Warehouse(":memory:", timezone=config.timezone) as wh:
        extract_all(wh, config, "run-1")
        assert wh.rows("select full_name from staging.customers order by 1") == [("张三",), ("李四",)]
    assert seen == [([], 2)]  # DuckDB read the copy; no file held its text
    assert plain_copies(tmp_path) == []


KILLED_WHILE_READING = """
import os, signal, sys
from pathlib import Path
import tasks.extract.raw
from tasks.extract import extract_all
from tasks.shared.warehouse import Warehouse
from tests.unit.extract.test_corpus import make_config
from tests.unit.extract.test_readers_scratch import SOURCE

real_read = tasks.extract.raw.read_file

def read_file(wh, source, file, work_dir, load, *args, **kwargs):
    def die(select, params):
        print("reading", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_read(wh, source, file, work_dir, die, *args, **kwargs)

tasks.extract.raw.read_file = read_file
folder = Path(sys.argv[1])
config = make_config(folder, [SOURCE])
with Warehouse(folder / "w.duckdb", timezone=config.timezone) as wh:
    extract_all(wh, config, "run-killed")
"""


def test_a_run_killed_while_reading_a_transcoded_file_leaves_no_copy(tmp_path: Path) -> None:
    gbk_source(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_READING, str(tmp_path)], cwd=REPO, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (-signal.SIGKILL, "reading\n"), done.stderr
    assert plain_copies(tmp_path) == []


def test_a_full_disk_while_transcoding_names_the_folder_and_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gbk_source(tmp_path)
    config = make_config(tmp_path, [SOURCE])
    real_open = os.open

    def open_(path: str | os.PathLike, flags: int, mode: int = 0o777, **kwargs: object) -> int:
        if flags & getattr(os, "O_TMPFILE", 0) == getattr(os, "O_TMPFILE", -1):
            return real_open("/dev/full", os.O_RDWR)  # the scratch copy: every write fails with ENOSPC
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    with Warehouse(":memory:", timezone=config.timezone) as wh, pytest.raises(OSError) as caught:
        extract_all(wh, config, "run-1")
    assert caught.value.errno == errno.ENOSPC
    assert str(caught.value) == f"[Errno 28] No space left on device: '{tmp_path / '.extract-run-1'}'"
    assert not is_transient(caught.value)
    assert plain_copies(tmp_path) == []


def test_a_conversion_error_names_the_column_and_the_row(tmp_path: Path) -> None:
    path = tmp_path / "game.parquet"
    pl.DataFrame({"session_id": ["S1", "S2", "S3"], "stake": ["10", "12.5", "十元"]}).write_parquet(path)
    source = SourceConfig.model_validate(
        {
            "name": "game",
            "kind": "customers",
            "format": "parquet",
            "path": "*.parquet",
            "columns": {"source_id": "session_id"},
        }
    )
    file = SourceFile(path, "game.parquet", path.stat().st_size, path.stat().st_mtime_ns)
    with Warehouse(":memory:") as wh, pytest.raises(DataError) as caught:
        # a load that inserts the rows into a typed table, as an append into raw can
        wh.execute("create table typed (stake double)")
        read_file(
            wh,
            source,
            file,
            tmp_path,
            lambda select, params: wh.execute(f"insert into typed select stake from ({select})", params),
        )
    assert str(caught.value).startswith(
        "source 'game': cannot read game.parquet as parquet: column 'stake', row 3: "
        "'十元' cannot be converted to DOUBLE (Conversion Error: Could not convert string '十元' to DOUBLE"
    )
    assert isinstance(caught.value.__context__, duckdb.ConversionException)
