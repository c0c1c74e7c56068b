"""A source's `where`: the rows it is not true of stay in raw, are not checked or staged, and are counted."""

import logging
import re
from pathlib import Path

import pytest
import yaml

from tasks.extract import SourceLoad, extract_all
from tasks.extract.load_state import source_fingerprint
from tasks.shared.config import ConfigError, PipelineConfig, load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

# rows 2 and 6 are test accounts, row 4 has no kind (null: not true, left out); row 2's birth date would be
# quarantined if it were checked
MEMBERS = """id,kind,born,spend
c1,real,1990-01-02,99
c2,test,not a date,1000
c3,real,1985-05-05,100
c4,,1970-07-07,5
c5,real,1999-09-09,1000
c6,test,1960-06-06,7
"""


def config_for(folder: Path, where: str | None) -> PipelineConfig:
    source = {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "members.csv",
        "max_bad_row_share": 1.0,
        "columns": {"source_id": "id", "birth_date": "born"},
        **({"where": where} if where is not None else {}),
    }
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"warehouse": "w.duckdb", "sources": [source]}), encoding="utf-8")
    return load_config(path)


def extracted(folder: Path, where: str | None, run_id: str = "r1") -> tuple[Warehouse, list[SourceLoad]]:
    (folder / "members.csv").write_text(MEMBERS, encoding="utf-8")
    config = config_for(folder, where)
    wh = Warehouse(folder / "w.duckdb")
    return wh, extract_all(wh, config, run_id)


def test_rows_a_where_is_not_true_of_are_kept_in_raw_not_checked_and_counted(tmp_path: Path) -> None:
    wh, loads = extracted(tmp_path, "kind = 'real'")
    with wh:
        assert loads == [SourceLoad("crm", "customers", 1, 1, 6, 3, 0, 0, "loaded", rows_filtered=3)]
        assert wh.rows("select source_id from staging.customers order by 1") == [("c1",), ("c3",), ("c5",)]
        assert wh.count("audit.quarantine") == 0  # c2's birth date is never checked
        assert wh.rows("select id from raw.crm order by _row") == [(f"c{i}",) for i in range(1, 7)]
        assert wh.rows(
            "select rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_filtered from audit.load_audit"
        ) == [(6, 3, 0, 0, 3)]
        assert wh.rows("select rows_read, rows_staged, rows_filtered from audit.extract_log") == [(6, 3, 3)]


def test_a_text_column_compared_with_a_number_is_read_as_a_number(tmp_path: Path) -> None:
    wh, loads = extracted(tmp_path, "spend >= 100")  # as text, '99' >= '100' and '1000' < '5'
    with wh:
        # c2, c3, c5 spent 100 or more: c2 is checked now, and quarantined for its birth date
        assert loads == [SourceLoad("crm", "customers", 1, 1, 6, 2, 1, 0, "loaded", rows_filtered=3)]
        assert wh.rows("select source_id from staging.customers order by 1") == [("c3",), ("c5",)]
        assert wh.rows("select row_number, reason from audit.quarantine") == [
            (2, "field birth_date: 'not a date' is not a valid date")
        ]


def test_changing_the_where_stages_every_row_again_and_none_is_not_hashed(tmp_path: Path) -> None:
    wh, _ = extracted(tmp_path, "kind = 'real'")
    wh.close()
    wh, loads = extracted(tmp_path, "kind = 'test'", "r2")
    with wh:
        assert loads == [SourceLoad("crm", "customers", 1, 0, 6, 1, 1, 0, "restaged", rows_filtered=4)]
        assert wh.rows("select source_id from staging.customers order by 1") == [("c6",)]
    # a config without a where hashes as it did before the option existed (no re-stage on upgrade): the value
    # computed by the code of 1561452 (7865750892b584a1), then with the rule of the ids' characters added to
    # every source's fingerprint (one re-stage on that upgrade, of every source)
    without = config_for(tmp_path, None)
    assert source_fingerprint(without, without.sources[0]) == "d8460add484c810a"


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("kind", "where = 'kind' is not a condition (it gives VARCHAR, not true or false)"),
        ("kinds = 'real'", "file members.csv has no column 'kinds' used by the mapping or where"),
    ],
)
def test_a_where_that_is_no_condition_on_the_columns_is_a_data_error(
    tmp_path: Path, where: str, message: str
) -> None:
    with pytest.raises(DataError) as error:
        extracted(tmp_path, where)
    assert str(error.value).startswith(f"source 'crm': {message}")
    assert "['id', 'kind', 'born', 'spend']" in str(error.value)


def test_a_where_that_fails_on_a_row_quarantines_it_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "members.csv").write_text(
        MEMBERS.replace("c4,,1970-07-07,5", "c4,,1970-07-07,n/a"), encoding="utf-8"
    )
    config = config_for(tmp_path, "spend * 2 >= 200")
    with Warehouse(tmp_path / "w.duckdb") as wh:
        [load] = extract_all(wh, config, "r1")
        # c4's spend is no number: checked and quarantined for the where, never left out unsaid
        assert (load.rows_staged, load.rows_quarantined, load.rows_filtered) == (2, 2, 2)
        assert wh.rows("select row_number, reason from audit.quarantine order by 1") == [
            (2, "field birth_date: 'not a date' is not a valid date"),
            (4, "where: 'spend * 2 >= 200' fails on this row"),
        ]


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("random() < 0.5", "where: a condition that gives another answer each time"),
        ("id in (select id from raw.crm)", "where: subqueries and table access are not allowed"),
        ("true) as k; drop table raw.crm; select (true", "where: not a valid SQL expression"),
        (
            "'kind' = 'real'",
            "where: \"'kind' = 'real'\" reads no column of the source: it is the same for every row; a column "
            'is named in double quotes: "kind", single quotes make text',
        ),
    ],
)
def test_a_where_is_one_expression_over_the_rows_own_columns(tmp_path: Path, where: str, said: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(said)):
        config_for(tmp_path, where)


def test_a_where_that_leaves_out_every_row_read_is_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        wh, loads = extracted(tmp_path, "kind = 'Real'")
    wh.close()
    assert (loads[0].rows_read, loads[0].rows_filtered) == (6, 6)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "source crm: its where (kind = 'Real') left out every row read (6): nothing of them is staged; check the "
        "condition against the files' values"
    ]
