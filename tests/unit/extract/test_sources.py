"""Sources beyond plain files: PostgreSQL tables and queries, Excel, Big5, incremental loads, schema drift."""

import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import yaml

from tasks.extract import SourceLoad
from tasks.extract.preflight import preflight
from tasks.shared.config import ConfigError, load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.sources import (
    CRM_CSV,
    MEMBERS_SOURCE,
    PAYMENTS_HEADER,
    PG_ENV,
    extract_once,
    pg_execute,
    write_config,
)


def test_postgres_table_loads_only_rows_past_the_watermark(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(
        postgres,
        "drop table if exists members",
        "create table members (id text primary key, name text, phone text, updated_at timestamptz)",
        "insert into members values ('M1', '张三', '13800138001', '2026-01-01 10:00+08'), "
        "('M2', '李四', null, '2026-01-02 10:00+08'), ('M3', '王五', '13800138003', '2026-01-03 10:00+08')",
    )
    config = write_config(tmp_path, [MEMBERS_SOURCE])

    first = extract_once(config, "run-1")
    assert first == [SourceLoad("members", "customers", 1, 1, 3, 3, 0, 0, "loaded")]
    assert extract_once(config, "run-2") == [
        SourceLoad("members", "customers", 1, 0, 0, 0, 0, 0, "unchanged")
    ]

    pg_execute(
        postgres,
        "insert into members values ('M4', '赵六', null, '2026-01-04 10:00+08')",
        "update members set name = '李四四', updated_at = '2026-01-05 10:00+08' where id = 'M2'",
    )
    assert extract_once(config, "run-3") == [SourceLoad("members", "customers", 1, 1, 2, 2, 0, 0, "loaded")]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        # the changed row is a new version of its record, the older one valid until then; lineage names the batch
        assert wh.rows(
            "select source_id, full_name, _file, valid_to from staging.customers order by source_id, valid_from"
        ) == [
            ("M1", "张三", "postgres:members@run-1", None),
            ("M2", "李四", "postgres:members@run-1", datetime(2026, 1, 5, 2, tzinfo=UTC)),
            ("M2", "李四四", "postgres:members@run-3", None),
            ("M3", "王五", "postgres:members@run-1", None),
            ("M4", "赵六", "postgres:members@run-3", None),
        ]
        assert wh.rows(
            "select file, rows_read, rows_staged from audit.load_audit order by loaded_at, file"
        ) == [
            ("postgres:members@run-1", 3, 3),
            ("postgres:members@run-3", 2, 2),
        ]
        assert wh.scalar("select watermark from audit.load_state where file = 'postgres:members@run-3'") == (
            "2026-01-05 10:00:00+08"
        )


def one_member(postgres: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A members table of one row (M1, updated 2026-01-01), its connection in the environment."""
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(
        postgres,
        "drop table if exists members",
        "create table members (id text primary key, name text, phone text, updated_at timestamptz)",
        "insert into members values ('M1', '张三', '13800138001', '2026-01-01 10:00+08')",
    )


def test_rows_without_a_watermark_stop_the_load_and_the_check(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row whose watermark is null is never past the last value loaded: read by the first load only, one added
    later was never loaded, without a word (fault injection). Such rows stop the read, and `segments check`."""
    one_member(postgres, monkeypatch)
    config = write_config(tmp_path, [MEMBERS_SOURCE])
    assert extract_once(config, "run-1") == [SourceLoad("members", "customers", 1, 1, 1, 1, 0, 0, "loaded")]
    pg_execute(postgres, "insert into members values ('M2', '李四', null, null), ('M3', '王五', null, null)")
    said = (
        "source 'members': 2 rows of public.members have no updated_at (the watermark): a load reads the rows past "
        "the last updated_at loaded, which such a row never is, so one added or changed later would never be "
        "loaded; give every row a value, e.g. query: select *, coalesce(updated_at, created_at) as changed_at "
        "from … with watermark: changed_at (or remove watermark to read a full snapshot each run)"
    )
    with pytest.raises(DataError) as raised:
        extract_once(config, "run-2")
    assert str(raised.value) == said
    assert [str(p) for p in preflight(load_config(config))] == ["sources.members: " + said.split(": ", 1)[1]]
    pg_execute(postgres, "update members set updated_at = '2026-01-02 10:00+08' where updated_at is null")
    assert extract_once(config, "run-3") == [SourceLoad("members", "customers", 1, 1, 2, 2, 0, 0, "loaded")]


def test_a_database_sources_guest_rows_are_versions_too(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a guest line repeated is dropped as a copy (as from a file), and a row that gains or loses its customer
    # past the watermark replaces its version wherever it was staged (the guest rows were no versions: a copy
    # staged twice, and a guest row given a customer later staged among both the attributed and the guests)
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(
        postgres,
        "drop table if exists sales",
        "create table sales (txn text, member text, amount numeric(12,2), paid_at timestamptz, "
        "updated_at timestamptz)",
        "insert into sales values ('T1', 'M1', 10.00, '2026-01-01 10:00+08', '2026-01-05 10:00+08'), "
        "('T2', null, 20.00, '2026-01-01 11:00+08', '2026-01-05 10:00+08'), "
        "('T2', null, 20.00, '2026-01-01 11:00+08', '2026-01-05 10:00+08'), "
        "('T3', null, 9.00, '2026-01-02 10:00+08', '2026-01-05 10:00+08'), "
        "('T4', 'M2', 5.00, '2026-01-02 11:00+08', '2026-01-05 10:00+08')",
    )
    source = {
        "name": "sales",
        "kind": "transactions",
        "format": "postgres",
        "connection": {"dsn_env": PG_ENV},
        "table": "public.sales",
        "watermark": "updated_at",
        "columns": {"txn_id": "txn", "customer_ref": "member", "amount": "amount", "ts": "paid_at"},
    }
    config = write_config(tmp_path, [source])

    def staged() -> tuple[list[tuple], list[tuple]]:
        with Warehouse.open(load_config(config), read_only=True) as wh:
            return (
                wh.rows("select txn_id, customer_ref, amount::varchar from staging.transactions order by 1"),
                wh.rows("select txn_id, amount::varchar from staging.unattributed_transactions order by 1"),
            )

    extract_once(config, "run-1")
    assert staged() == ([("T1", "M1", "10.00"), ("T4", "M2", "5.00")], [("T2", "20.00"), ("T3", "9.00")])
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select id, row_number, kept_row_number from audit.duplicates") == [("T2", 2, 3)]
    pg_execute(
        postgres,
        "update sales set member = 'M1', updated_at = '2026-01-06 10:00+08' where txn = 'T3'",
        "update sales set member = null, updated_at = '2026-01-06 10:00+08' where txn = 'T4'",
    )
    extract_once(config, "run-2")
    after = ([("T1", "M1", "10.00"), ("T3", "M1", "9.00")], [("T2", "20.00"), ("T4", "5.00")])
    assert staged() == after
    # a warehouse staged by the version before (a guest copy staged twice, its fingerprint without the rule) is
    # staged again from raw by the next run, once
    with Warehouse.open(load_config(config)) as wh:
        wh.execute(
            "insert into staging.unattributed_transactions select * from staging.unattributed_transactions"
        )
        wh.execute("update audit.load_state set config_fingerprint = 'before' where source = 'sales'")
    assert staged()[1] == [("T2", "20.00"), ("T2", "20.00"), ("T4", "5.00"), ("T4", "5.00")]
    extract_once(config, "run-3")
    assert staged() == after


def test_postgres_query_source_without_watermark_is_a_snapshot(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    pg_execute(
        postgres,
        "drop table if exists recharges",
        "create table recharges (txn text, member text, amount numeric(12,2), paid_at timestamptz)",
        "insert into recharges values ('T1', 'M1', 68.00, '2026-01-01 10:00+08'), ('T2', 'M1', 6.00, '2026-01-02 10:00+08')",
    )
    source = {
        "name": "recharges",
        "kind": "transactions",
        "format": "postgres",
        "connection": {"dsn_env": PG_ENV},
        "query": "select txn, member, amount, paid_at from recharges where amount > 0",
        "columns": {"txn_id": "txn", "customer_ref": "member", "amount": "amount", "ts": "paid_at"},
    }
    config = write_config(tmp_path, [source])
    assert extract_once(config, "run-1")[0].rows_staged == 2
    pg_execute(postgres, "insert into recharges values ('T3', 'M2', 30.00, '2026-01-03 10:00+08')")
    assert extract_once(config, "run-2")[0].rows_staged == 3  # a full snapshot replaces the previous one
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select txn_id, amount::varchar from staging.transactions order by txn_id") == [
            ("T1", "68.00"),
            ("T2", "6.00"),
            ("T3", "30.00"),
        ]


def test_credentials_never_come_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PG_ENV, raising=False)
    config = write_config(tmp_path, [MEMBERS_SOURCE])
    with pytest.raises(ConfigError, match=f"source 'members': environment variable {PG_ENV} is not set"):
        extract_once(config, "run-1")
    inline = {**MEMBERS_SOURCE, "connection": {"dsn": "postgresql://user:secret@host/db"}}
    with pytest.raises(ConfigError, match="connection.dsn: Extra inputs are not permitted"):
        load_config(write_config(tmp_path, [inline]))


def test_only_new_and_changed_files_are_loaded(sample_copy: Path, make_config) -> None:
    config = make_config(sample_copy)
    first = {load.source: load for load in extract_once(config, "run-1")}
    assert {load.status for load in first.values()} == {"loaded"}
    again = extract_once(config, "run-2")
    assert [(load.source, load.status, load.rows_read) for load in again] == [
        (name, "unchanged", 0) for name in ("crm", "game", "payments", "social", "survey")
    ]

    # a new day of payments arrives as a new file: only it is read
    (sample_copy / "payments" / "2026-11-23.csv").write_text(
        PAYMENTS_HEADER
        + "TN1,ON1,,13912345670,,30.00,CNY,SUCCESS,支付宝,2026-11-23T09:00:00+08:00\n"
        + "TN2,ON2,,13912345671,,68.00,CNY,SUCCESS,支付宝,2026-11-23T10:00:00+08:00\n",
        encoding="utf-8",
    )
    loads = {load.source: load for load in extract_once(config, "run-3")}
    assert loads["payments"] == SourceLoad("payments", "transactions", 2, 1, 2, 2, 0, 0, "loaded")
    assert {name for name, load in loads.items() if load.status == "unchanged"} == {
        "crm",
        "game",
        "social",
        "survey",
    }

    # a changed file replaces its earlier rows; a removed file takes its rows along
    survey = sample_copy / "survey" / "survey.csv"
    survey_rows = pl.read_csv(survey, infer_schema=False)
    survey_rows.head(5).write_csv(survey, include_bom=True)
    (sample_copy / "payments" / "2026-11-23.csv").unlink()
    loads = {load.source: load for load in extract_once(config, "run-4")}
    assert (loads["survey"].files_loaded, loads["survey"].rows_read) == (1, 5)
    assert loads["payments"].status == "removed"  # only a removal: nothing to read
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.scalar("select count(*) from staging.feedback") == 5
        assert wh.scalar("select count(*) from staging.transactions where txn_id in ('TN1', 'TN2')") == 0
        staged = wh.scalar("select count(*) from staging.transactions")
    assert staged == first["payments"].rows_staged

    # --full-refresh reloads one source from scratch; a changed mapping re-stages without reading files
    loads = {load.source: load for load in extract_once(config, "run-5", full_refresh=["crm"])}
    assert (loads["crm"].status, loads["crm"].rows_read) == ("loaded", first["crm"].rows_read)
    text = config.read_text(encoding="utf-8").replace('"姓名"', 'trim("姓名")')
    config.write_text(text, encoding="utf-8")
    loads = {load.source: load for load in extract_once(config, "run-6")}
    assert (loads["crm"].status, loads["crm"].files_loaded, loads["crm"].rows_read) == (
        "restaged",
        0,
        first["crm"].rows_read,
    )
    assert loads["game"].status == "unchanged"


def test_excel_and_big5_sources_through_config_only(tmp_path: Path) -> None:
    pl.DataFrame(
        {"会员编号": ["V001", "V002"], "姓名": ["陳大文", "林小美"], "手机": ["0912345678", "13800138002"]}
    ).write_excel(tmp_path / "vip.xlsx")
    (tmp_path / "tw.csv").write_bytes("會員編號,姓名,電話\nT01,張偉,0912000111\nT02,黃麗,\n".encode("big5"))
    config = write_config(
        tmp_path,
        [
            {
                "name": "vip",
                "kind": "customers",
                "format": "xlsx",
                "path": "vip.xlsx",
                "columns": {"source_id": '"会员编号"', "full_name": '"姓名"', "phone": '"手机"'},
            },
            {
                "name": "taiwan",
                "kind": "customers",
                "format": "csv",
                "path": "tw.csv",
                "encoding": "big5",
                "columns": {"source_id": '"會員編號"', "full_name": '"姓名"', "phone": '"電話"'},
            },
        ],
    )
    loads = extract_once(config, "run-1")
    assert [(load.source, load.rows_staged) for load in loads] == [("vip", 2), ("taiwan", 2)]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows(
            "select source, _file, _row, source_id, full_name, phone from staging.customers order by 1, 3"
        ) == [
            ("taiwan", "tw.csv", 1, "T01", "張偉", "0912000111"),
            ("taiwan", "tw.csv", 2, "T02", "黃麗", None),
            ("vip", "vip.xlsx", 1, "V001", "陳大文", "0912345678"),  # the leading zero survives
            ("vip", "vip.xlsx", 2, "V002", "林小美", "13800138002"),
        ]


def test_a_new_column_is_kept_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a.csv").write_text("id,name\nA1,甲\n", encoding="utf-8")
    config = write_config(tmp_path, [CRM_CSV])
    extract_once(config, "run-1")
    (tmp_path / "b.csv").write_text("id,name,vip_level\nB1,乙,3\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        assert extract_once(config, "run-2")[0].rows_staged == 1
    assert "source crm: new column 'vip_level' kept in raw, not mapped to a canonical field" in caplog.text
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select _file, id, vip_level from raw.crm order by _file") == [
            ("a.csv", "A1", None),
            ("b.csv", "B1", "3"),
        ]


def test_a_file_of_many_new_columns_is_one_warning_naming_the_first_twenty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.csv").write_text("id,name\nA1,甲\n", encoding="utf-8")
    config = write_config(tmp_path, [CRM_CSV])
    extract_once(config, "run-1")
    extra = [f"c{i:03d}" for i in range(1, 31)]
    (tmp_path / "b.csv").write_text(
        ",".join(["id", "name", *extra]) + "\nB1,乙" + ",x" * 30 + "\n", encoding="utf-8"
    )
    with caplog.at_level("WARNING"):
        assert extract_once(config, "run-2")[0].rows_staged == 1
    warnings = [r.getMessage() for r in caplog.records if "new column" in r.getMessage()]
    assert warnings == [
        "source crm: 30 new columns kept in raw, not mapped to a canonical field: "
        + ", ".join(repr(name) for name in extra[:20])
        + " and 10 more"
    ]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select _file, c001, c030 from raw.crm order by _file") == [
            ("a.csv", None, None),
            ("b.csv", "x", "x"),
        ]


def test_a_customer_exported_again_with_changes_is_a_new_version_of_its_record(tmp_path: Path) -> None:
    header = "id,name,phone,updated\n"
    (tmp_path / "crm-01.csv").write_text(
        header + "M1,张三,13800138001,2026-01-01 10:00:00\n", encoding="utf-8"
    )
    source = {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "crm-*.csv",
        "columns": {"source_id": "id", "full_name": "name", "phone": "phone", "updated_at": "updated"},
    }
    config = write_config(tmp_path, [source])
    extract_once(config, "run-1")
    # the next export has the member again, renamed, plus an unchanged copy in a late file
    (tmp_path / "crm-02.csv").write_text(
        header + "M1,张三丰,13800138001,2026-02-01 10:00:00\nM1,张三,13800138001,2026-01-01 10:00:00\n",
        encoding="utf-8",
    )
    assert extract_once(config, "run-2") == [SourceLoad("crm", "customers", 2, 1, 2, 1, 0, 1, "loaded")]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        # both versions, January's valid until February's; the unchanged copy repeats January's version
        assert wh.rows(
            "select source_id, full_name, _file, _row, valid_to from staging.customers order by valid_from"
        ) == [
            ("M1", "张三", "crm-01.csv", 1, datetime(2026, 2, 1, 2, tzinfo=UTC)),
            ("M1", "张三丰", "crm-02.csv", 1, None),
        ]
        assert wh.rows("select file, row_number, kept_file, kept_row_number from audit.duplicates") == [
            ("crm-02.csv", 2, "crm-01.csv", 1)
        ]


def test_memory_limit_from_the_config(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\nA1,甲\n", encoding="utf-8")
    source = {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "a.csv",
        "columns": {"source_id": "id"},
    }
    path = write_config(tmp_path, [source])
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**data, "memory_limit": "512MB"}, allow_unicode=True), encoding="utf-8")
    with Warehouse.open(load_config(path)) as wh:
        assert wh.scalar("select current_setting('memory_limit')") == "488.2 MiB"
    path.write_text(
        yaml.safe_dump({**data, "memory_limit": "512MB'; drop"}, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="memory_limit: String should match pattern"):
        load_config(path)


def test_a_database_source_read_otherwise_stops_until_a_full_refresh(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_member(postgres, monkeypatch)
    config = write_config(tmp_path, [MEMBERS_SOURCE])
    assert extract_once(config, "run-1")[0].rows_staged == 1
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("table: public.members", "query: select * from members where phone is not null")
    )
    message = (
        "source 'members': how its rows are read changed since they were loaded (its table, query or watermark): "
        "raw holds what the earlier settings read, and re-staging it would keep that. Read the source again with "
        "--full-refresh members (the flow's full_refresh parameter; rows the database no longer returns are then "
        "gone), or put the earlier settings back"
    )
    with pytest.raises(DataError, match=re.escape(message)):
        extract_once(config, "run-2")
    assert [(load.status, load.rows_staged) for load in extract_once(config, "run-3", ["members"])] == [
        ("loaded", 1)
    ]
