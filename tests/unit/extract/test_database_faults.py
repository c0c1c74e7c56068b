"""A database source's data going wrong between runs (a real PostgreSQL server): an emptied table, a row dated far
in the future, rows deleted from a snapshot. Each is said, and none makes later changes go unread."""

import logging
from pathlib import Path

import pytest

from tasks.extract import SourceLoad
from tasks.shared.config import load_config
from tasks.shared.errors import DataError, is_transient
from tasks.shared.warehouse import Warehouse
from tests.sources import MEMBERS_SOURCE, PG_ENV, extract_once, pg_execute, write_config

MEMBERS = (
    "drop table if exists members",
    "create table members (id text primary key, name text, phone text, updated_at timestamptz)",
    "insert into members values ('M1', '张三', null, '2026-01-01 10:00+08'), ('M2', '李四', null, '2026-01-02 10:00+08')",
)


def staged_names(config: Path) -> list[tuple[str, str]]:
    """Each member's current name in staging."""
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select source_id, full_name from staging.customers where valid_to is null order by 1")


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_a_watermark_source_whose_table_was_emptied_has_nothing_new(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(postgres, *MEMBERS)
    config = write_config(tmp_path, [MEMBERS_SOURCE])
    extract_once(config, "run-1")
    pg_execute(postgres, "truncate members")  # the watermark's type cannot come from a row now
    assert extract_once(config, "run-2") == [
        SourceLoad("members", "customers", 1, 0, 0, 0, 0, 0, "unchanged")
    ]
    assert staged_names(config) == [("M1", "张三"), ("M2", "李四")]


def test_a_row_dated_in_the_future_does_not_move_the_watermark_past_later_changes(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(postgres, *MEMBERS, "update members set updated_at = '2099-01-01 00:00+00' where id = 'M2'")
    config = write_config(tmp_path, [{**MEMBERS_SOURCE, "max_bad_row_share": 0.5}])
    with caplog.at_level(logging.WARNING):
        first = extract_once(config, "run-1")
    assert (first[0].rows_staged, first[0].rows_quarantined) == (1, 1)  # M2: updated_at in the future
    [said] = [line for line in warnings(caplog) if "watermark" in line]
    assert said.startswith("source members: a row has a watermark past ")
    assert said.endswith(
        " (2099-01-01 08:00:00+08): the watermark updated_at stays at 2026-01-01 10:00:00+08, so that changes "
        "dated before them are still read; staging quarantines such rows, and the next run reads them again"
    )
    # M1 changes and M2 is corrected, both dated before 2099: read, not skipped
    pg_execute(
        postgres,
        "update members set name = '张三丰', updated_at = '2026-01-05 10:00+08' where id = 'M1'",
        "update members set updated_at = '2026-01-06 10:00+08' where id = 'M2'",
    )
    assert extract_once(config, "run-2")[0].rows_staged == 2
    assert staged_names(config) == [("M1", "张三丰"), ("M2", "李四")]


def test_rows_deleted_from_a_snapshot_are_said_and_an_empty_answer_keeps_the_last_read(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(postgres, *MEMBERS, "insert into members values ('M3', '王五', null, '2026-01-03 10:00+08')")
    config = write_config(tmp_path, [{**MEMBERS_SOURCE, "watermark": None}])  # every read a full snapshot
    extract_once(config, "run-1")
    pg_execute(postgres, "delete from members where id in ('M2', 'M3')")
    with caplog.at_level(logging.WARNING):
        extract_once(config, "run-2")
    assert warnings(caplog) == [
        "source members: its database returned 1 row, 2 fewer than its last read (rows deleted there): the "
        "missing rows leave raw and staging"
    ]
    assert staged_names(config) == [("M1", "张三")]
    pg_execute(postgres, "truncate members")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        extract_once(config, "run-3")
    assert warnings(caplog) == [
        "source members: its database returned no rows: its last read (1 row) is kept, an empty answer taken "
        "for a failed export (to empty the source, run with --full-refresh members)"
    ]
    assert staged_names(config) == [("M1", "张三")]


def test_a_renamed_watermark_column_is_named_with_the_columns_the_table_has(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(postgres, *MEMBERS)
    config = write_config(tmp_path, [MEMBERS_SOURCE])
    extract_once(config, "run-1")
    pg_execute(postgres, "alter table members rename column updated_at to modified_at")
    with pytest.raises(DataError) as raised:
        extract_once(config, "run-2")
    assert str(raised.value) == (
        "source 'members': PostgreSQL query failed: the watermark column 'updated_at' (sources.members.watermark) "
        "is not a column of public.members; its columns: id, name, phone, modified_at. Was it renamed? Set "
        "watermark to the column that holds each row's last change"
    )
    assert staged_names(config) == [("M1", "张三"), ("M2", "李四")]  # the last read stays


def test_a_row_updated_out_of_the_where_is_unstaged_as_a_full_refresh_would(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(postgres, *MEMBERS, "alter table members add column closed boolean default false")
    config = write_config(tmp_path, [{**MEMBERS_SOURCE, "where": "not closed"}])
    extract_once(config, "run-1")
    pg_execute(
        postgres, "update members set closed = true, updated_at = '2026-01-05 10:00+08' where id = 'M2'"
    )
    [load] = extract_once(config, "run-2")
    assert (load.rows_read, load.rows_staged, load.rows_filtered) == (1, 0, 1)
    assert staged_names(config) == [("M1", "张三")]
    with Warehouse.open(load_config(config), read_only=True) as wh:  # no earlier version of M2 either
        assert wh.rows("select source_id from staging.customers order by 1") == [("M1",)]
    extract_once(config, "run-3", full_refresh=["members"])
    assert staged_names(config) == [("M1", "张三")]


def streamed(postgres: str, folder: Path, row_300: str) -> Path:
    """A query source over 402 members whose row 300 (of row_number() over id) does row_300, a condition that ends
    the read while its rows stream in; its config."""
    pg_execute(
        postgres,
        *MEMBERS,
        "insert into members select 'N' || i, 'n', null, now() from generate_series(1, 400) i",
    )
    query = (
        "select id, name, phone, updated_at from (select *, row_number() over (order by id) as n from members) as m "
        f"where n <> 300 or {row_300}"
    )
    return write_config(folder, [{**MEMBERS_SOURCE, "table": None, "query": query, "watermark": None}])


@pytest.mark.parametrize(
    ("row_300", "error", "said", "transient"),
    [
        # the server ends the connection (the query ends its own backend): retried like a refused connection
        (
            "pg_terminate_backend(pg_backend_pid())",
            ConnectionError,
            "source 'members': PostgreSQL read failed while reading its rows: [libpq] Execution error "
            "[PGRES_FATAL_ERROR]: FATAL:  terminating connection due to administrator command",
            True,
        ),
        # the query's own error: another try fails the same way
        (
            "1 / (n - 300) is not null",
            DataError,
            "source 'members': PostgreSQL query failed while reading its rows: [libpq] Execution error "
            "[PGRES_FATAL_ERROR]: ERROR:  division by zero",
            False,
        ),
    ],
)
def test_an_error_while_the_rows_stream_in_names_the_source_and_only_a_lost_connection_is_retried(
    postgres: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    row_300: str,
    error: type[Exception],
    said: str,
    transient: bool,
) -> None:
    # DuckDB reads the rows' Arrow stream and wraps libpq's errors in an InvalidInputException
    monkeypatch.setenv(PG_ENV, postgres)
    config = streamed(postgres, tmp_path, row_300)
    with pytest.raises(error) as raised:
        extract_once(config, "run-1")
    assert str(raised.value) == said
    assert is_transient(raised.value) is transient
