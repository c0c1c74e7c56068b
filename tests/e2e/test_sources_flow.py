"""Sources through real flow runs: Secret credentials, the bad-row threshold, backfills, database/Excel/Big5."""

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END
from tests.sources import MEMBERS_SOURCE, PAYMENTS_HEADER, PG_ENV, extract_once, pg_execute, write_config


def test_postgres_credentials_from_a_prefect_secret_block(
    prefect_server: None, postgres: str, tmp_path: Path
) -> None:
    from prefect.blocks.system import Secret

    Secret(value=postgres).save("segments-test-pg", overwrite=True)
    pg_execute(
        postgres,
        "drop table if exists members",
        "create table members (id text, name text, phone text, updated_at timestamptz)",
        "insert into members values ('M9', '钱七', null, '2026-02-01 10:00+08')",
    )
    source = {**MEMBERS_SOURCE, "connection": {"secret_block": "segments-test-pg"}}
    assert extract_once(write_config(tmp_path, [source]), "run-1")[0].rows_staged == 1


def test_too_many_bad_rows_fail_the_run_and_keep_the_published_segments(
    prefect_server: None, sample_copy: Path, make_config
) -> None:
    config = make_config(sample_copy)
    daily_refresh(as_of=SAMPLE_END, config=str(config))
    with Warehouse.open(load_config(config), read_only=True) as wh:
        before = wh.rows("select * from published.customer_segments order by customer_id")
    bad = "".join(
        f"TB{i},OB{i},M0000001,,,abc,CNY,SUCCESS,支付宝,2026-11-22T09:00:00+08:00\n" for i in range(50)
    )
    (sample_copy / "payments" / "bad.csv").write_text(PAYMENTS_HEADER + bad, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        daily_refresh(as_of=SAMPLE_END, config=str(config))
    assert str(caught.value) == (
        "source 'payments': 50 of 50 rows (100.0%) failed checks, more than max_bad_row_share 5.0%; nothing was "
        "loaded or published. Most frequent: (1) 50 x field amount: '...' is not a valid decimal(18,2) (first: "
        f"{sample_copy / 'payments' / 'bad.csv'} row 1). To load the good rows and keep the bad ones in "
        "audit.quarantine with their values, raise sources.payments.max_bad_row_share"
    )  # the data folder is outside the config's: its files are named by their absolute paths
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select * from published.customer_segments order by customer_id") == before
        assert wh.scalar("select count(*) from raw.payments where _file like '%bad.csv'") == 0  # rolled back


def test_backfill_days_do_not_extract_again(prefect_server: None, sample_data: Path, make_config) -> None:
    config = make_config(sample_data)
    from flows.backfill import backfill

    backfill(start=date(2026, 11, 20), end=date(2026, 11, 21), config=str(config))
    with Warehouse.open(load_config(config), read_only=True) as wh:
        statuses = wh.rows("select status, count(*) from audit.extract_log group by all order by 1")
    assert statuses == [("loaded", 5), ("unchanged", 5)]  # the first day loads, the second finds nothing new


def test_sample_platform_with_database_excel_and_big5_sources(
    prefect_server: None, postgres: str, sample_copy: Path, make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_ENV, postgres)
    # the survey now lives in the survey system's PostgreSQL database
    survey = pl.read_csv(sample_copy / "survey" / "survey.csv", infer_schema=False)
    pg_execute(postgres, "drop table if exists survey_answers")
    survey.rename(
        {
            "问卷编号": "answer_id",
            "会员编号": "member_id",
            "手机": "phone",
            "满意度": "score",
            "意见": "comment",
            "提交时间": "submitted_at",
        }
    ).write_database("survey_answers", postgres, engine="adbc")
    shutil.rmtree(sample_copy / "survey")
    # VIP members come as an Excel export, Taiwan members as a Big5 CSV
    members = pl.read_csv(sample_copy / "crm" / "members.csv", encoding="gbk", infer_schema=False).head(3)
    pl.DataFrame({"会员编号": members["会员编号"], "等级": ["钻石", "黄金", "白银"]}).write_excel(
        sample_copy / "vip.xlsx"
    )
    (sample_copy / "tw.csv").write_bytes("會員編號,姓名,電話\nT01,張偉,0912000111\n".encode("big5"))

    config = make_config(sample_copy)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["sources"] = [s for s in data["sources"] if s["name"] != "survey"] + [
        {
            "name": "survey",
            "kind": "feedback",
            "format": "postgres",
            "connection": {"dsn_env": PG_ENV},
            "query": "select answer_id, member_id, phone, score, comment, submitted_at from survey_answers",
            "customer_source": "crm",
            "columns": {
                "feedback_id": "answer_id",
                "customer_ref": "member_id",
                "phone": "phone",
                "ts": "submitted_at",
                "score": "score",
                "text": "comment",
            },
        },
        {
            "name": "vip",
            "kind": "events",
            "format": "xlsx",
            "path": str(sample_copy / "vip.xlsx"),
            "customer_source": "crm",
            "columns": {
                "customer_ref": '"会员编号"',
                "ts": "'2026-11-01'",
                "event_type": "'vip_level'",
                "category": '"等级"',
            },
        },
        {
            "name": "taiwan",
            "kind": "customers",
            "format": "csv",
            "path": str(sample_copy / "tw.csv"),
            "encoding": "big5",
            "columns": {"source_id": '"會員編號"', "full_name": '"姓名"', "phone": '"電話"'},
        },
    ]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    summary = daily_refresh(as_of=SAMPLE_END, config=str(config))
    loads = {load["source"]: load for load in summary["extract"]}
    assert set(loads) == {"crm", "game", "payments", "social", "survey", "vip", "taiwan"}
    assert loads["survey"]["rows_read"] == survey.height
    assert (loads["vip"]["rows_staged"], loads["taiwan"]["rows_staged"]) == (3, 1)
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.scalar("select full_name from core.customers where 'taiwan' in sources") == "張偉"
        assert (
            wh.scalar("select count(*) from staging.feedback where source = 'survey'")
            == loads["survey"]["rows_staged"]
        )
