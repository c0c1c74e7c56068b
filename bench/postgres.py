"""A throw-away PostgreSQL server (initdb + pg_ctl in a temporary folder, a free loopback port, trust
authentication): the lake catalog of `make bench`, and the database of the tests (tests/sources.py); free
loopback ports for the servers the benchmarks and tests start."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin(name: str) -> str:
    """A PostgreSQL server program (Debian keeps them out of PATH)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} is needed: apt-get install postgresql (make test installs it)"
        )
    return found


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(server: str, name: str) -> str:
    """A new, empty database on the server at URI server (e.g. a lake's catalog); its URI."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(server, autocommit=True) as con, con.cursor() as cursor:
        cursor.execute(f"create database {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def temporary_postgres(prefix: str = "segments-pg-") -> Iterator[str]:
    """Start a PostgreSQL server in a new temporary folder; yield its URI (database `postgres`); stop it and
    delete the folder afterwards. Run as the postgres user when this process is root (the server refuses
    root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    data = folder / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        runuser = shutil.which("runuser") or next(
            p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()
        )
        as_postgres = [runuser, "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*as_postgres, pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_postgres,
            pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
        ]
        + ["start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)
