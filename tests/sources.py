"""Helpers of the source tests: a real PostgreSQL server (initdb, pg_ctl; once per session), configs, one extract."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bench.postgres import temporary_postgres
from tasks.extract import SourceLoad, extract_all
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.backend import default_warehouse

PG_ENV = "SEGMENTS_TEST_PG_DSN"


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server on a free loopback port in a temporary folder; yields its connection URI."""
    with temporary_postgres() as dsn:
        yield dsn


def pg_execute(dsn: str, *statements: str) -> None:
    """Run statements in the test database."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(dsn) as con, con.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        con.commit()


def write_config(folder: Path, sources: list[dict]) -> Path:
    path = folder / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {"warehouse": default_warehouse(folder), "sources": sources}, allow_unicode=True, sort_keys=False
        ),
        encoding="utf-8",
    )
    return path


def extract_once(config_path: Path, run_id: str, full_refresh: list[str] | None = None) -> list[SourceLoad]:
    """One extract run on a fresh connection, as separate flow runs would do."""
    config = load_config(config_path)
    with Warehouse.open(config) as wh:
        return extract_all(wh, config, run_id, full_refresh)


# A CSV customers source with an id and a name (its path: every CSV file beside the config).
CRM_CSV = {
    "name": "crm",
    "kind": "customers",
    "format": "csv",
    "path": "*.csv",
    "columns": {"source_id": "id", "full_name": "name"},
}

# A CSV transactions source under pay/ (txn_id, member_id, amount, ts) that quarantines whatever share fails.
PAY_CSV = {
    "name": "pay",
    "kind": "transactions",
    "format": "csv",
    "path": "pay/*.csv",
    "max_bad_row_share": 1.0,
    "columns": {"txn_id": "txn_id", "customer_ref": "member_id", "amount": "amount", "ts": "ts"},
}

MEMBERS_SOURCE = {
    "name": "members",
    "kind": "customers",
    "format": "postgres",
    "connection": {"dsn_env": PG_ENV},
    "table": "public.members",
    "watermark": "updated_at",
    "columns": {"source_id": "id", "full_name": "name", "phone": "phone", "updated_at": "updated_at"},
}


PAYMENTS_HEADER = "txn_id,order_id,member_id,phone,email,amount,currency,status,channel,created_at\n"
