"""bench.floor: reads every configured source of a generated sample once, and groups sessions and payments per customer."""

import csv
from pathlib import Path

import duckdb
import polars as pl
import pytest

from bench.floor import DATABASE, aggregated, measure_floor, read_source
from bench.run import END, write_config
from sampledata.generate import GenerateStats, generate
from tasks.extract.readers import source_files
from tasks.shared.config import PipelineConfig, load_config


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateStats]:
    """A tiny generated sample with the benchmark's config next to it."""
    data = tmp_path_factory.mktemp("floor")
    stats = generate(data, customers=300, seed=5, end=END)
    return write_config(data, "1GB"), stats


def test_reads_every_configured_source_with_the_generators_row_counts(
    sample: tuple[Path, GenerateStats],
) -> None:
    config_path, stats = sample
    floor = measure_floor(config_path)
    assert set(floor["rows"]) == {source.name for source in load_config(config_path).sources}
    assert floor["rows"] == stats.rows
    assert floor["rows_read"] == sum(stats.rows.values())
    assert floor["wall_s"] == floor["read_s"] + floor["aggregate_s"]
    assert not list(config_path.parent.glob(DATABASE + "*"))  # its database is removed afterwards


def test_groups_sessions_and_payments_per_member(sample: tuple[Path, GenerateStats]) -> None:
    config_path, _ = sample
    data = config_path.parent
    sessions = pl.read_parquet(data / "game" / "*.parquet")
    payments = pl.read_csv(data / "payments" / "payments.csv", infer_schema_length=0)
    groups = measure_floor(config_path)["groups"]
    # one group per member id, guests (no member id) in one group of their own
    assert groups["game"] == sessions["member_id"].n_unique()
    assert groups["payments"] == payments["member_id"].n_unique()
    assert groups["social"] == 0  # its event_type is the action column: no row is a session


def test_aggregates_payments_and_sessions_not_customers_or_feedback(
    sample: tuple[Path, GenerateStats],
) -> None:
    config = load_config(sample[0])
    chosen = [(source.name, where) for source, where in aggregated(config)]
    assert chosen == [("game", None), ("payments", None), ("social", "(action) in ('session')")]


def test_gbk_export_is_transcoded_not_mojibake(sample: tuple[Path, GenerateStats], tmp_path: Path) -> None:
    config: PipelineConfig = load_config(sample[0])
    crm = next(source for source in config.sources if source.name == "crm")
    files = [file.path for file in source_files(config, crm)]
    with duckdb.connect() as con:
        read_source(con, crm, files, tmp_path)
        read = con.execute('select "会员编号", "姓名" from source_crm').fetchall()
    with files[0].open(encoding="gbk", newline="") as handle:
        expected = [(row["会员编号"] or None, row["姓名"] or None) for row in csv.DictReader(handle)]
    assert read == expected
