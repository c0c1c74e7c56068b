"""`segments demo`, the README quickstart: generate sample data with sampledata, then run the refresh on it."""

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from flows.cli import app
from sampledata.folder import MARKER


def test_demo_twice_in_the_same_folder(prefect_server: None, tmp_path: Path) -> None:
    folder = tmp_path / "demo-data"
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--dir", str(folder), "--customers", "300", "--seed", "7"])
    assert first.exit_code == 0, first.output
    assert (folder / MARKER).is_file() and (folder / "warehouse.duckdb").is_file()
    # the folder now holds a config and a warehouse, but the generator made it: regenerating is allowed
    second = runner.invoke(app, ["demo", "--dir", str(folder), "--customers", "300", "--seed", "7"])
    assert second.exit_code == 0, second.output
    assert second.output.startswith(f"Generated 300 persons under {folder.resolve()}:")
    assert "\nDaily refresh as of " in second.output
    # another sample into the same folder: what was built from the first is removed, not mixed with it
    third = runner.invoke(app, ["demo", "--dir", str(folder), "--customers", "200", "--seed", "7"])
    assert third.exit_code == 0, third.output
    assert third.output.startswith(f"{folder} held another sample: removed what was built from it (")
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        runs = con.sql("select count(*), count(distinct as_of) from published.runs").fetchall()
        ids = con.sql("select count(*) from core.customer_ids").fetchall()
        persons = con.sql("select count(distinct customer_id) from published.customer_segments").fetchall()
    assert runs == [(1, 1)]  # one published day: the new sample's
    assert ids[0][0] == persons[0][0]  # no id issued for the first sample's customers


def test_demo_refuses_a_folder_holding_another_warehouse(tmp_path: Path) -> None:
    (tmp_path / "warehouse.duckdb").write_bytes(b"someone else's")
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path), "--customers", "300"])
    assert result.exit_code == 2
    assert "holds warehouse.duckdb, not written by the sample generator" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]
    assert (tmp_path / "warehouse.duckdb").read_bytes() == b"someone else's"
