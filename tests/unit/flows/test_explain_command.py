"""`segments explain`, `segments profile CUSTOMER_ID` and the check `segments erase` makes of an id, on a warehouse
file after one dedupe run (read-only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app, refuse_unknown_customer
from tasks.erase.person import CUSTOMER_ID_HINT
from tasks.shared.config import load_config
from tasks.shared.errors import DAMAGED_FILE_ADVICE
from tasks.shared.warehouse import Warehouse, WarehouseLockedError
from tests.unit.dedupe.match_world import AS_OF, build_world, world_config


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose warehouse file holds the dedupe world of match_world.py, published."""
    folder = tmp_path_factory.mktemp("explain")
    config = world_config().model_dump(mode="json", exclude_unset=True)
    config["warehouse"] = str(folder / "warehouse.duckdb")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with Warehouse(folder / "warehouse.duckdb") as wh:
        build_world(wh, world_config())
        wh.execute(
            "create table published.customer_segments as select customer_id, ?::date as as_of, 'r1' as run_id "
            "from core.customers",
            [AS_OF],
        )
    return path


def test_explain_prints_the_waterfall_of_two_records(config_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "--config", str(config_path), "crm:m1", "crm:m11"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "crm:m1 and crm:m11: not linked by a probabilistic link of the last dedupe run"
    )
    assert lines[3].split() == ["comparison", "crm:m1", "crm:m11", "level", "weight", "total"]
    assert [line.split()[0] for line in lines[4:15]] == [
        "prior",
        "given",
        "family",
        "dob",
        "address",
        "city",
        "postcode",
        "national_id",
        "email",
        "phone",
        "gender",
    ]
    assert lines[-2].startswith("match weight ") and lines[-2].endswith(
        "match probability 0 below the threshold 0.9"
    )
    assert lines[-1].startswith("two people whatever the weight: their given names differ")


def test_explain_refuses_a_record_written_without_its_source(config_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "--config", str(config_path), "m1", "crm:m11"])
    assert result.exit_code == 2
    assert "'m1' is not a customer record: write it as source:source_id" in result.output


def test_profile_of_a_linked_customer_shows_the_waterfall(config_path: Path) -> None:
    result = CliRunner().invoke(app, ["profile", "--config", str(config_path), "web:w2"])
    assert result.exit_code == 0, result.output
    assert "  by a probabilistic link crm:m4 ~ web:w2 (probabilistic:name_dob_address): " in result.output


def test_explain_refuses_a_config_whose_comparisons_changed_since_the_run(config_path: Path) -> None:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    given = {"name": "given", "kind": "name", "column": "given_name", "term_frequency": False}
    config["dedupe"] = {**config.get("dedupe", {}), "comparisons": [given]}
    changed = config_path.with_name("changed.yaml")
    changed.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", "--config", str(changed), "crm:m1", "crm:m11"])
    assert result.exit_code == 2
    assert (
        "(given: term_frequency true -> false): run dedupe again to explain pairs with them" in result.output
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["profile"], "a test holder; try again when it has finished\n"),
        (["profile", "web:w2"], "a test holder\n"),
        (["explain", "crm:m1", "crm:m11"], "a test holder\n"),
    ],
)
def test_a_warehouse_being_written_is_named_by_its_writer(
    config_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], message: str
) -> None:
    def locked(*_: object, **__: object) -> Warehouse:
        raise WarehouseLockedError("held")

    monkeypatch.setattr(Warehouse, "open", staticmethod(locked))
    monkeypatch.setattr("tasks.shared.lock.lock_holder", lambda _: "a test holder")
    result = CliRunner().invoke(app, [*arguments, "--config", str(config_path)])
    assert result.exit_code == 2
    assert result.output.endswith(f"error: the warehouse is being written right now by {message}")


@pytest.mark.parametrize("arguments", [["profile"], ["profile", "web:w2"], ["explain", "crm:m1", "crm:m11"]])
def test_a_missing_warehouse_says_to_run_first(config_path: Path, arguments: list[str]) -> None:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["warehouse"] = str(config_path.with_name("none.duckdb"))
    missing = config_path.with_name("missing.yaml")
    missing.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(app, [*arguments, "--config", str(missing)])
    assert result.exit_code == 2
    assert f"error: no warehouse at {config_path.with_name('none.duckdb')} yet: run `segments run` first" in (
        result.output
    )


def test_erase_refuses_an_id_never_issued_before_any_flow_starts(config_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["erase", "--config", str(config_path), "--customer-id", "C0000000000000000"]
    )
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: unknown customer id 'C0000000000000000': no customer in {config_path.parent / 'warehouse.duckdb'} "
        f"ever had it, nothing was erased. {CUSTOMER_ID_HINT}"
    ]


def test_the_erase_check_passes_a_known_id_and_leaves_a_warehouse_being_written_to_the_flow(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = load_config(config_path)
    with Warehouse.open(pipeline, read_only=True) as wh:
        known = wh.scalar("select min(customer_id) from core.customers")
    assert refuse_unknown_customer(pipeline, known) is None

    def locked(*_: object, **__: object) -> Warehouse:
        raise WarehouseLockedError("held")

    monkeypatch.setattr(Warehouse, "open", staticmethod(locked))
    assert refuse_unknown_customer(pipeline, "C0000000000000000") is None  # the flow waits, then checks


def test_erase_without_a_warehouse_says_so(config_path: Path, tmp_path: Path) -> None:
    settings = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump({**settings, "warehouse": str(tmp_path / "none.duckdb")}), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["erase", "--config", str(config), "--customer-id", "C0000000000000000"])
    assert (result.exit_code, result.output) == (
        2,
        f"error: no warehouse at {tmp_path / 'none.duckdb'} yet: nothing to erase\n",
    )
    assert not (tmp_path / "none.duckdb").exists()


def test_a_damaged_warehouse_file_is_named_with_what_to_do(config_path: Path, tmp_path: Path) -> None:
    """A warehouse cut short (a full disk, a copy made mid-write): DuckDB's error, then the way out."""
    damaged = tmp_path / "warehouse.duckdb"
    data = load_config(config_path).warehouse_path.read_bytes()
    damaged.write_bytes(data[:100_000])  # past the headers, inside the first block
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) | {"warehouse": str(damaged)}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from flows.cli import main; main()",
            "profile",
            "--config",
            str(tmp_path / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    first, advice = done.stderr.strip().splitlines()
    assert (
        first.startswith("error: IOException: IO Error: Could not read enough bytes from file")
        and str(damaged) in first
    )
    assert advice == DAMAGED_FILE_ADVICE
