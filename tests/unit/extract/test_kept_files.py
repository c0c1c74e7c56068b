"""Raw of a Parquet source read in place (tasks.extract.kept_files): a view over the files, not a copy."""

import logging
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from tasks.extract import SourceLoad, extract_all
from tasks.extract.diagnose import is_read_error
from tasks.extract.erased import collect_raw_keys
from tasks.extract.kept_files import hide_erased_rows, run_rows
from tasks.shared.config import ConfigError, PipelineConfig, load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

GAME = {
    "name": "game",
    "kind": "events",
    "format": "parquet",
    "path": "game/*.parquet",
    "max_bad_row_share": 1.0,
    "read_in_place": True,
    "columns": {
        "event_id": "session_id",
        "customer_ref": "member_id",
        "ts": "start_time",
        "event_type": "'session'",
        "duration_s": "duration_s",
    },
}
STAGED = "select _file, _row, event_id, duration_s from staging.events order by _file, _row"
RAW = "select _source, _file, _row, _run_id, session_id, duration_s from raw.game order by _file, _row"


def sessions(folder: Path, name: str, ids: list[str], durations: list) -> Path:
    """A Parquet file of game sessions, one per id, all of member M1 on 2026-01-01."""
    path = folder / "game" / name
    path.parent.mkdir(exist_ok=True)
    pl.DataFrame(
        {
            "session_id": ids,
            "member_id": ["M1"] * len(ids),
            "start_time": [datetime(2026, 1, 1, 10, i) for i in range(len(ids))],
            "duration_s": durations,
        }
    ).write_parquet(path)
    return path


def pipeline(folder: Path) -> PipelineConfig:
    """The config of a project folder with the game source (written into it)."""
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"warehouse": "w.duckdb", "sources": [GAME]}), encoding="utf-8")
    return load_config(path)


def extract(folder: Path, run_id: str) -> tuple[list[SourceLoad], Warehouse]:
    """Extract the folder's config into its warehouse; the warehouse is returned open (the caller closes it)."""
    config = pipeline(folder)
    wh = Warehouse(config.warehouse_path, timezone=config.timezone)
    return extract_all(wh, config, run_id), wh


def raw_kind(wh: Warehouse) -> str:
    return wh.scalar("select table_type from information_schema.tables where table_schema = 'raw'")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    sessions(tmp_path, "a.parquet", ["G1", "G2"], [600, 120])
    sessions(tmp_path, "b.parquet", ["G3"], [60])
    return tmp_path.resolve()


def test_raw_of_a_parquet_source_reads_the_files_in_place(folder: Path) -> None:
    loads, wh = extract(folder, "run-1")
    with wh:
        assert loads == [SourceLoad("game", "events", 2, 2, 3, 3, 0, 0, "loaded")]
        assert raw_kind(wh) == "VIEW"
        assert wh.rows("select source, file, path, rows, run_id from audit.raw_files order by file") == [
            ("game", "game/a.parquet", str(folder / "game" / "a.parquet"), 2, "run-1"),
            ("game", "game/b.parquet", str(folder / "game" / "b.parquet"), 1, "run-1"),
        ]
        assert wh.rows(RAW) == [
            ("game", "game/a.parquet", 1, "run-1", "G1", 600),
            ("game", "game/a.parquet", 2, "run-1", "G2", 120),
            ("game", "game/b.parquet", 1, "run-1", "G3", 60),
        ]
        assert wh.rows(STAGED) == [
            ("game/a.parquet", 1, "G1", 600.0),
            ("game/a.parquet", 2, "G2", 120.0),
            ("game/b.parquet", 1, "G3", 60.0),
        ]


def test_a_new_file_joins_the_kept_ones_and_only_it_is_checked(folder: Path) -> None:
    extract(folder, "run-1")[1].close()
    sessions(folder, "c.parquet", ["G4"], [30])
    loads, wh = extract(folder, "run-2")
    with wh:
        assert loads == [SourceLoad("game", "events", 3, 1, 1, 1, 0, 0, "loaded")]
        assert wh.rows(RAW)[2:] == [
            ("game", "game/b.parquet", 1, "run-1", "G3", 60),
            ("game", "game/c.parquet", 1, "run-2", "G4", 30),
        ]
        assert [row[2] for row in wh.rows(STAGED)] == ["G1", "G2", "G3", "G4"]


def test_a_kept_file_with_new_columns_is_one_warning(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    extract(folder, "run-1")[1].close()
    path = folder / "game" / "c.parquet"
    pl.read_parquet(sessions(folder, "c.parquet", ["G4"], [30])).with_columns(
        vip=pl.lit(1), channel=pl.lit("app")
    ).write_parquet(path)
    with caplog.at_level(logging.WARNING):
        loads, wh = extract(folder, "run-2")
    with wh:
        assert [r.getMessage() for r in caplog.records if "new column" in r.getMessage()] == [
            "source game: 2 new columns kept in raw, not mapped to a canonical field: 'vip', 'channel'"
        ]
        assert wh.rows("select session_id, vip, channel from raw.game order by _file, _row")[2:] == [
            ("G3", None, None),
            ("G4", 1, "app"),
        ]


def test_a_gone_file_leaves_raw_and_the_warning_counts_its_rows(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    extract(folder, "run-1")[1].close()
    (folder / "game" / "a.parquet").unlink()
    with caplog.at_level(logging.WARNING):
        loads, wh = extract(folder, "run-2")
    with wh:
        assert (
            "file game/a.parquet is gone: raw and staging lose its 2 rows (66.7% of the source's)"
            in caplog.text
        )
        assert wh.rows(RAW) == [("game", "game/b.parquet", 1, "run-1", "G3", 60)]
        assert wh.rows(STAGED) == [("game/b.parquet", 1, "G3", 60.0)]
        assert wh.rows("select file from audit.raw_files") == [("game/b.parquet",)]


def test_a_changed_file_is_read_again_and_a_shorter_one_is_warned_of(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    extract(folder, "run-1")[1].close()
    sessions(folder, "a.parquet", ["G9"], [5])
    with caplog.at_level(logging.WARNING):
        loads, wh = extract(folder, "run-2")
    with wh:
        assert "file game/a.parquet changed and holds 1 row, 1 fewer than the 2 loaded before" in caplog.text
        assert wh.rows(RAW) == [
            ("game", "game/a.parquet", 1, "run-2", "G9", 5),
            ("game", "game/b.parquet", 1, "run-1", "G3", 60),
        ]
        assert wh.rows("select file, rows, run_id from audit.raw_files order by file") == [
            ("game/a.parquet", 1, "run-2"),
            ("game/b.parquet", 1, "run-1"),
        ]


def test_a_file_that_retypes_a_column_turns_raw_into_a_table_of_every_row(folder: Path) -> None:
    extract(folder, "run-1")[1].close()
    sessions(folder, "c.parquet", ["G4"], ["45 s"])
    loads, wh = extract(folder, "run-2")
    with wh:
        assert raw_kind(wh) == "BASE TABLE"
        assert wh.count("audit.raw_files") == 0
        # the earlier files' integers next to the new file's text: text holds both
        assert wh.rows(RAW) == [
            ("game", "game/a.parquet", 1, "run-1", "G1", "600"),
            ("game", "game/a.parquet", 2, "run-1", "G2", "120"),
            ("game", "game/b.parquet", 1, "run-1", "G3", "60"),
            ("game", "game/c.parquet", 1, "run-2", "G4", "45 s"),
        ]
        assert wh.rows("select row_number, reason from audit.quarantine") == [
            (1, "field duration_s: '45 s' is not a valid double")
        ]


def test_a_moved_project_reads_its_files_where_they_are_now(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    extract(folder, "run-1")[1].close()
    moved = tmp_path_factory.mktemp("moved") / "project"
    shutil.copytree(folder, moved, copy_function=shutil.copy2)  # copy2 keeps mtimes: nothing is new
    shutil.rmtree(folder)
    loads, wh = extract(moved, "run-2")
    with wh:
        assert loads == [SourceLoad("game", "events", 2, 0, 0, 0, 0, 0, "unchanged")]
        assert [row[4] for row in wh.rows(RAW)] == ["G1", "G2", "G3"]
        assert {path for (path,) in wh.rows("select path from audit.raw_files")} == {
            str(moved / "game" / "a.parquet"),
            str(moved / "game" / "b.parquet"),
        }


def zeroed_middle(data: bytes) -> bytes:
    return data[: len(data) // 2] + b"\0" * 64 + data[len(data) // 2 + 64 :]


def cut_in_half(data: bytes) -> bytes:
    return (
        data[: len(data) // 2] + data[-8:]
    )  # the footer's length and magic kept: it points before the start


@pytest.mark.parametrize("damage", [zeroed_middle, cut_in_half])
def test_a_file_duckdb_cannot_read_fails_naming_it(folder: Path, damage) -> None:
    path = sessions(folder, "c.parquet", ["G4", "G5"], [1, 2])
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match=r"source 'game': cannot read game/c.parquet as parquet"):
        extract(folder, "run-1")


def test_an_erased_persons_rows_are_hidden_and_counted_once(folder: Path) -> None:
    wh = extract(folder, "run-1")[1]
    with wh:
        wh.run("ops/erase_lineage")
        wh.execute("insert into _erase_lineage values ('game', 'game/a.parquet', 2), ('crm', 'crm.csv', 1)")
        removed: dict[str, int] = {}
        hide_erased_rows(wh, removed)
        assert removed == {"raw.game": 1}
        assert [row[4] for row in wh.rows(RAW)] == ["G1", "G3"]
        hide_erased_rows(wh, removed)  # the same lineage again: nothing more is hidden
        assert removed == {"raw.game": 1}
        assert wh.rows("select source, file, raw_row, run_id, hidden from audit.raw_row_marks") == [
            ("game", "game/a.parquet", 2, None, True)
        ]


def test_a_row_that_repeated_a_gone_files_row_is_checked_again(folder: Path) -> None:
    sessions(folder, "b.parquet", ["G1"], [600])  # a copy of a.parquet's first row
    loads, wh = extract(folder, "run-1")
    with wh:
        assert loads[0].duplicates_dropped == 1
    (folder / "game" / "a.parquet").unlink()
    loads, wh = extract(folder, "run-2")
    with wh:
        assert wh.rows(STAGED) == [("game/b.parquet", 1, "G1", 600.0)]
        assert wh.rows(RAW) == [("game", "game/b.parquet", 1, "run-2", "G1", 600)]
        assert wh.count("audit.duplicates") == 0


def test_an_erasure_between_runs_reads_the_files_still_there(folder: Path) -> None:
    extract(folder, "run-1")[1].close()
    (folder / "game" / "a.parquet").unlink()  # archived after the run: raw must stay readable
    config = pipeline(folder)
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        assert collect_raw_keys(wh, config, quarantined_only=False) == 1
        assert wh.rows("select source, file, row, record_id from _erase_raw_keys") == [
            ("game", "game/b.parquet", 1, "M1")
        ]


def test_staging_reads_only_the_files_of_its_run(folder: Path) -> None:
    extract(folder, "run-1")[1].close()
    sessions(folder, "c.parquet", ["G4"], [30])
    extract(folder, "run-2")[1].close()
    config = pipeline(folder)
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        source = config.sources[0]
        assert run_rows(wh, source, "run-2", all_rows=False) == "_raw_of_run"
        assert wh.rows("select _file, _row, _run_id, session_id from _raw_of_run") == [
            ("game/c.parquet", 1, "run-2", "G4")
        ]
        assert run_rows(wh, source, "run-2", all_rows=True) == "raw.game"  # a re-stage reads every file
        assert (
            run_rows(wh, source, "run-3", all_rows=False) == "raw.game"
        )  # no file of the run: nothing to narrow


def test_a_retyped_source_is_copied_beside_any_other_sources_raw(folder: Path) -> None:
    (folder / "game__copy.csv").write_text("id,name\nC1,x\n", encoding="utf-8")
    other = {"name": "game__copy", "kind": "customers", "format": "csv", "path": "game__copy.csv"}
    path = folder / "pipeline.yaml"
    sources = [GAME, {**other, "columns": {"source_id": "id", "full_name": "name"}}]
    path.write_text(yaml.safe_dump({"warehouse": "w.duckdb", "sources": sources}), encoding="utf-8")
    config = load_config(path)
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        extract_all(wh, config, "run-1")
    sessions(folder, "c.parquet", ["G4"], ["45 s"])
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        extract_all(wh, config, "run-2")
        assert wh.rows("select _file, id from raw.game__copy") == [("game__copy.csv", "C1")]
        assert [row[4] for row in wh.rows(RAW)] == ["G1", "G2", "G3", "G4"]


@pytest.mark.parametrize(
    ("error", "file_format", "the_files"),
    [
        (duckdb.Error("don't know what type: "), "parquet", True),  # a damaged footer, as DuckDB 2.0 says it
        (duckdb.IOException("IO Error: Could not read enough bytes from file"), "parquet", True),
        (duckdb.Error("don't know what type: "), "csv", False),
        (duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate"), "parquet", False),
        (duckdb.IOException("IO Error: No space left on device"), "parquet", False),
        (duckdb.ConversionException("Could not convert string 'x' to INT32"), "csv", True),
    ],
)
def test_a_damaged_parquet_files_errors_are_the_files_and_the_machines_are_not(
    error: duckdb.Error, file_format: str, the_files: bool
) -> None:
    assert is_read_error(error, file_format) is the_files


def test_by_default_and_once_read_in_place_is_off_raw_is_a_table_of_the_rows(folder: Path) -> None:
    path = folder / "pipeline.yaml"
    config_of = {"warehouse": "w.duckdb", "sources": [GAME | {"read_in_place": False}]}
    extract(folder, "run-1")[1].close()  # read in place
    path.write_text(yaml.safe_dump(config_of), encoding="utf-8")
    config = load_config(path)
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        extract_all(wh, config, "run-2")  # the config changed: every raw row is checked again
        assert raw_kind(wh) == "BASE TABLE"
        assert wh.count("audit.raw_files") == 0
        assert wh.rows(RAW) == [  # the run that loaded each row
            ("game", "game/a.parquet", 1, "run-1", "G1", 600),
            ("game", "game/a.parquet", 2, "run-1", "G2", 120),
            ("game", "game/b.parquet", 1, "run-1", "G3", 60),
        ]
        assert [row[2] for row in wh.rows(STAGED)] == ["G1", "G2", "G3"]
    other = folder / "fresh"
    shutil.copytree(folder / "game", other / "game")
    (other / "pipeline.yaml").write_text(
        yaml.safe_dump({"warehouse": "w.duckdb", "sources": [GAME | {"read_in_place": False}]}), "utf-8"
    )
    config = load_config(other / "pipeline.yaml")
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        extract_all(wh, config, "run-1")
        assert raw_kind(wh) == "BASE TABLE"  # the default: rows copied


def test_read_in_place_is_for_parquet_sources_only(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    csv = {**GAME, "format": "csv", "path": "game/*.csv"}
    path.write_text(yaml.safe_dump({"sources": [csv]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="read_in_place is for parquet sources"):
        load_config(path)


@pytest.mark.parametrize("in_place", [True, False])
def test_a_file_named_like_a_pattern_is_read_alone(tmp_path: Path, in_place: bool) -> None:
    sessions(tmp_path, "s-*.parquet", ["G1", "G2"], [1, 2])  # * ? [ are DuckDB's pattern characters
    sessions(tmp_path, "s-[a].parquet", ["G3"], [3])
    sessions(tmp_path, "s-a.parquet", ["G4"], [4])
    path = tmp_path / "pipeline.yaml"
    source = GAME | {"read_in_place": in_place}
    path.write_text(yaml.safe_dump({"warehouse": "w.duckdb", "sources": [source]}), encoding="utf-8")
    config = load_config(path)
    with Warehouse(config.warehouse_path, timezone=config.timezone) as wh:
        loads = extract_all(wh, config, "run-1")
        assert loads == [SourceLoad("game", "events", 3, 3, 4, 4, 0, 0, "loaded")]
        assert wh.rows("select _file, _row, session_id from raw.game order by _file, _row") == [
            ("game/s-*.parquet", 1, "G1"),
            ("game/s-*.parquet", 2, "G2"),
            ("game/s-[a].parquet", 1, "G3"),
            ("game/s-a.parquet", 1, "G4"),
        ]


@pytest.mark.parametrize("column", ["_source", "_row", "_run_id"])
def test_a_file_with_a_column_named_like_raws_lineage_is_refused_naming_it(folder: Path, column: str) -> None:
    pl.DataFrame(
        {"session_id": ["G9"], "member_id": ["M1"], column: ["x"], "start_time": ["2026-01-01 10:00"]}
    ).write_parquet(folder / "game" / "c.parquet")
    with pytest.raises(
        DataError,
        match=rf"source 'game': file game/c.parquet has a column named '{column}', a name raw gives",
    ):
        extract(folder, "run-1")


def test_a_re_pointed_folder_of_kept_files_is_followed(tmp_path: Path) -> None:
    first = tmp_path / "logs-1"
    first.mkdir()
    sessions(first, "a.parquet", ["G1", "G2"], [600, 120])
    project = tmp_path / "project"
    project.mkdir()
    (project / "game").symlink_to(first / "game")
    extract(project, "run-1")[1].close()
    second = tmp_path / "logs-2"
    shutil.copytree(first, second)  # a copy: new mtimes, same content
    (project / "game").unlink()
    (project / "game").symlink_to(second / "game")
    loads, wh = extract(project, "run-2")
    with wh:
        assert loads == [SourceLoad("game", "events", 1, 0, 0, 0, 0, 0, "unchanged")]
        assert wh.rows("select file, path from audit.raw_files") == [
            (str(first / "game" / "a.parquet"), str(second / "game" / "a.parquet"))
        ]
        assert [row[1:] for row in wh.rows(RAW)] == [
            (str(first / "game" / "a.parquet"), 1, "run-1", "G1", 600),
            (str(first / "game" / "a.parquet"), 2, "run-1", "G2", 120),
        ]
