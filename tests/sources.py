"""Helpers of the source tests: a real PostgreSQL server (initdb, pg_ctl; once per session), configs, one extract."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tasks.extract import SourceLoad, extract_all
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse

PG_ENV = "SEGMENTS_TEST_PG_DSN"


def pg_bin(name: str) -> str:
    """A PostgreSQL server program (Debian keeps them out of PATH)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    assert found, f"PostgreSQL's {name} is needed: apt-get install postgresql (make test installs it)"
    return found


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server on a free loopback port in a temporary folder; yields its connection URI."""
    folder = Path(tempfile.mkdtemp(prefix="segments-pg-"))
    data = folder / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        runuser = shutil.which("runuser") or next(
            p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()
        )
        as_postgres = [runuser, "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = [*as_postgres]
    subprocess.run(
        [*run, pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run,
            pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run, pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


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
        yaml.safe_dump({"warehouse": "w.duckdb", "sources": sources}, allow_unicode=True, sort_keys=False),
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
