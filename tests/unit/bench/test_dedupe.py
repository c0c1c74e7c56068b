"""bench.dedupe: times dedupe on generated CRM records; deletes only a warehouse it created, under the writer lock."""

import logging
import threading
import time
from pathlib import Path

import pytest

from bench.dedupe import MARKER, bench_dedupe, main
from sampledata import FolderInUseError, write_sample
from tasks.shared.lock import warehouse_lock

RECORDS = 300


def test_runs_then_reuses_its_data_and_rebuilds_its_warehouse(tmp_path: Path) -> None:
    first = bench_dedupe(tmp_path, RECORDS, seed=7)
    assert first.generate is not None
    assert first.records > 0 and 0 < first.customers <= first.records
    assert (tmp_path / "warehouse.duckdb").is_file() and (tmp_path / MARKER).is_file()
    second = bench_dedupe(tmp_path, RECORDS, seed=7)
    assert second.generate is None  # same arguments: the generated data is reused
    assert (second.records, second.customers, second.candidate_pairs, second.probabilistic_links) == (
        first.records,
        first.customers,
        first.candidate_pairs,
        first.probabilistic_links,
    )


def test_refuses_a_folder_with_a_foreign_warehouse(tmp_path: Path) -> None:
    (tmp_path / "warehouse.duckdb").write_bytes(b"not the benchmark's")
    with pytest.raises(FolderInUseError, match="not written by the sample generator"):
        bench_dedupe(tmp_path, RECORDS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]
    assert (tmp_path / "warehouse.duckdb").read_bytes() == b"not the benchmark's"


def test_keeps_a_warehouse_it_did_not_create_in_a_sample_folder(tmp_path: Path) -> None:
    write_sample(tmp_path, customers=50, seed=7)  # a demo folder: generated, then a refresh built a warehouse
    (tmp_path / "warehouse.duckdb").write_bytes(b"the demo's warehouse")
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(FolderInUseError, match="was not created by bench.dedupe"):
        bench_dedupe(tmp_path, RECORDS)
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_command_line_refusal_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.yaml").write_text("x: 1\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["--records", str(RECORDS), "--dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert "error: " in capsys.readouterr().err


def test_waits_for_the_writer_lock_before_deleting_its_warehouse(tmp_path: Path) -> None:
    bench_dedupe(tmp_path, RECORDS, seed=7)
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"stand-in")  # still the benchmark's file by its marker, but recognisable
    finished = threading.Event()
    with warehouse_lock(warehouse, "a refresh", logging.getLogger("test")):
        worker = threading.Thread(target=lambda: (bench_dedupe(tmp_path, RECORDS, seed=7), finished.set()))
        worker.start()
        time.sleep(2)
        assert not finished.is_set()
        assert warehouse.read_bytes() == b"stand-in"  # not deleted while another writer holds the lock
    worker.join(timeout=120)
    assert finished.is_set()
    assert warehouse.read_bytes() != b"stand-in"  # deleted and rebuilt once the lock was free
