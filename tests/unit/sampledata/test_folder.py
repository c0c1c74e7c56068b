"""The generator writes only into new folders or its own: a marker says so; others' warehouse or config is refused."""

import importlib
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sampledata import FolderInUseError, generate, write_sample
from sampledata.cli import app
from sampledata.folder import MARKER, read_marker
from tests.conftest import DEMO_CONFIG

END = date(2026, 11, 22)


def cli(directory: Path, *extra: str) -> tuple[int, str]:
    """Run `python -m sampledata` on a folder; return its exit code and output (an option in extra given again
    wins: the last value of an option is the one used)."""
    result = CliRunner().invoke(
        app, ["--dir", str(directory), "--customers", "50", "--seed", "7", "--end", END.isoformat(), *extra]
    )
    return result.exit_code, result.output


def test_writes_the_data_its_config_and_a_marker(tmp_path: Path) -> None:
    code, output = cli(tmp_path / "data")
    assert code == 0, output
    assert output.splitlines()[0] == f"Generated 50 persons under {(tmp_path / 'data').resolve()}:"
    assert output.splitlines()[-1] == f"Config: {(tmp_path / 'data' / 'config.yaml').resolve()}"
    assert (tmp_path / "data" / "config.yaml").read_bytes() == DEMO_CONFIG.read_bytes()
    marker = json.loads((tmp_path / "data" / MARKER).read_text(encoding="utf-8"))
    assert marker == {
        "generator": "sampledata",
        "customers": 50,
        "seed": 7,
        "end": "2026-11-22",
        "difficulty": "default",
        "rows": generate(tmp_path / "again", customers=50, seed=7, end=END).rows,
        "config": "config.yaml",
    }


def test_refuses_a_folder_with_a_foreign_config(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("warehouse: prod.duckdb\n", encoding="utf-8")
    code, output = cli(tmp_path)
    assert code == 2
    assert f"{tmp_path} holds config.yaml, not written by the sample generator" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # nothing written
    assert (tmp_path / "config.yaml").read_text(encoding="utf-8") == "warehouse: prod.duckdb\n"
    with pytest.raises(FolderInUseError):
        generate(tmp_path, customers=10)


def test_refuses_a_folder_with_a_foreign_warehouse(tmp_path: Path) -> None:
    (tmp_path / "prod.duckdb").write_bytes(b"not ours")
    code, output = cli(tmp_path)
    assert code == 2
    assert f"{tmp_path} holds prod.duckdb, not written by the sample generator" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prod.duckdb"]
    with pytest.raises(FolderInUseError, match="prod.duckdb"):
        write_sample(tmp_path, customers=10)
    assert (tmp_path / "prod.duckdb").read_bytes() == b"not ours"


def demo_outputs(folder: Path) -> None:
    """What `segments demo` leaves beside the data: the warehouse, its WAL and spill folder, the exports."""
    (folder / "warehouse.duckdb").write_bytes(b"the demo's warehouse")
    (folder / "warehouse.duckdb.wal").write_bytes(b"wal")
    (folder / "warehouse.duckdb.tmp").mkdir()
    (folder / "exports" / "2026-11-22").mkdir(parents=True)


def test_the_same_sample_again_keeps_its_warehouse(tmp_path: Path) -> None:
    assert cli(tmp_path)[0] == 0
    demo_outputs(tmp_path)
    code, output = cli(tmp_path)
    assert code == 0, output
    assert "another sample" not in output
    assert (tmp_path / "warehouse.duckdb").read_bytes() == b"the demo's warehouse"
    assert (tmp_path / "exports" / "2026-11-22").is_dir()


@pytest.mark.parametrize(
    "other", [("--difficulty", "hard"), ("--customers", "60"), ("--seed", "8"), ("--end", "2026-11-23")]
)
def test_another_sample_removes_what_was_built_from_the_last(tmp_path: Path, other: tuple[str, str]) -> None:
    # its source files are rewritten in place: the old warehouse would mix the two samples' customers
    assert cli(tmp_path)[0] == 0
    demo_outputs(tmp_path)
    code, output = cli(tmp_path, *other)
    assert code == 0, output
    assert output.splitlines()[0] == (
        f"{tmp_path} held another sample: removed what was built from it (warehouse.duckdb, "
        "warehouse.duckdb.wal, warehouse.duckdb.tmp, exports), so the new one starts a warehouse of its own"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "config.yaml",
        "crm",
        "game",
        "payments",
        "social",
        "survey",
        "truth",
    ]


def test_nothing_outside_the_folder_is_removed(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    assert cli(folder)[0] == 0
    (folder / "config.yaml").write_text(
        (folder / "config.yaml")
        .read_text(encoding="utf-8")
        .replace("warehouse: warehouse.duckdb", "warehouse: ../shared.duckdb"),
        encoding="utf-8",
    )
    (tmp_path / "shared.duckdb").write_bytes(b"someone else's")
    assert cli(folder, "--seed", "8")[0] == 0
    assert (tmp_path / "shared.duckdb").read_bytes() == b"someone else's"


def test_refusal_is_a_value_error_the_tools_report(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("x: 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="refusing to generate"):
        write_sample(tmp_path, customers=10)


def test_bad_difficulty_exits_2(tmp_path: Path) -> None:
    code, output = cli(tmp_path / "data", "--difficulty", "impossible")
    assert code == 2
    assert "difficulty must be one of default, hard, adversarial, not 'impossible'" in output


def test_adversarial_difficulty_reports_its_corruptions(tmp_path: Path) -> None:
    code, output = cli(tmp_path, "--difficulty", "adversarial")
    assert code == 0, output
    assert read_marker(tmp_path)["difficulty"] == "adversarial"
    corrupted = output.splitlines()[-2]
    assert corrupted.startswith(
        "CRM corruptions (persons: family_phone, lookalike, latin_name; rows: the rest): "
    )
    assert "missing_phone" in corrupted
    assert "CRM corruptions" not in cli(tmp_path, "--difficulty", "hard")[1]


def test_an_interrupted_generation_leaves_a_claim_that_matches_no_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(tmp_path)[0] == 0

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    # the module, not the package attribute of the same name (the function)
    monkeypatch.setattr(importlib.import_module("sampledata.generate"), "generate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_sample(tmp_path, customers=50, seed=7, end=END)
    assert read_marker(tmp_path) == {"generator": "sampledata", "state": "generating"}
    monkeypatch.undo()
    code, output = cli(tmp_path)  # still the generator's folder (config.yaml included): regenerated
    assert code == 0, output
    assert read_marker(tmp_path)["customers"] == 50


def test_a_folder_an_earlier_version_generated_is_still_its_own(tmp_path: Path) -> None:
    # `segments demo` before the marker existed: the sample config (another comment line) and its warehouse
    old = DEMO_CONFIG.read_text(encoding="utf-8").replace("# ", "# (earlier version) ", 1)
    (tmp_path / "config.yaml").write_text(old, encoding="utf-8")
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    code, output = cli(tmp_path)
    assert code == 0, output
    assert (tmp_path / MARKER).is_file()


def test_a_changed_sample_config_is_not_the_generators_any_more(tmp_path: Path) -> None:
    edited = DEMO_CONFIG.read_text(encoding="utf-8").replace("timezone: Asia/Shanghai", "timezone: UTC")
    assert edited != DEMO_CONFIG.read_text(encoding="utf-8")
    (tmp_path / "config.yaml").write_text(edited, encoding="utf-8")
    code, output = cli(tmp_path)
    assert code == 2
    assert f"{tmp_path} holds config.yaml, not written by the sample generator" in output
