"""The `segments` command as users run it: the installed console script in a subprocess, reporting to a
running Prefect server it finds on its own (no PREFECT_API_URL), one-line errors, the log file."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

import duckdb
import pytest
import yaml

from tasks.shared.config import load_config
from tasks.shared.errors import DAMAGED_FILE_ADVICE
from tasks.shared.warehouse import Warehouse
from tests.conftest import REPO, SAMPLE_END, write_config
from tests.e2e.prefect_server import api_call

SEGMENTS = str(Path(sys.executable).parent / "segments")  # this environment's (main or lake)


@pytest.fixture(scope="module")
def cli_env(prefect_server: None) -> dict[str, str]:
    """The environment of a user's shell with the session's Prefect server running on a local port."""
    from prefect.settings import get_current_settings

    api = get_current_settings().api.url
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["SEGMENTS_PREFECT_PORT"] = str(urlparse(api).port)
    env["PREFECT_HOME"] = os.environ.get("PREFECT_HOME", str(Path.home() / ".prefect"))
    return env | {"SEGMENTS_TEST_API": api}


def segments(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SEGMENTS, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO, check=False
    )


def flow_run_names(api: str, flow_name: str) -> list[str]:
    response = api_call(
        "POST",
        f"{api}/flow_runs/filter",
        {"flows": {"name": {"any_": [flow_name]}}, "sort": "START_TIME_ASC", "limit": 200},
    )
    response.raise_for_status()
    return [run["name"] for run in response.json()]


def published_days(config: Path) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select distinct as_of, partial from published.runs order by as_of")


def test_version_names_this_program_and_its_engines() -> None:
    import importlib.metadata as metadata

    result = subprocess.run([SEGMENTS, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"segments {metadata.version('precision-segments')} (prefect {metadata.version('prefect')}, "
        f"duckdb {metadata.version('duckdb')}, polars {metadata.version('polars')}, "
        f"scikit-learn {metadata.version('scikit-learn')})\n"
    )


def test_run_backfill_profile_erase_through_the_cli_on_a_running_server(
    cli_env: dict[str, str], sample_data: Path, tmp_path: Path
) -> None:
    config = write_config(sample_data, tmp_path)
    api = cli_env["SEGMENTS_TEST_API"]

    first = segments(cli_env, "run", "--config", str(config), "--as-of", SAMPLE_END.isoformat())
    assert first.returncode == 0, first.stderr
    assert f"Prefect server: http://127.0.0.1:{cli_env['SEGMENTS_PREFECT_PORT']}/api" in first.stdout
    assert f"Daily refresh as of {SAMPLE_END}" in first.stdout
    assert "Traceback" not in first.stdout + first.stderr
    assert f"daily-refresh-{SAMPLE_END}" in flow_run_names(api, "daily-refresh")  # the run is in the UI

    # --full-refresh as the README writes it: crm is read again, the others have nothing new
    again = segments(
        cli_env, "run", "--config", str(config), "--as-of", SAMPLE_END.isoformat(), "--full-refresh", "crm"
    )
    assert again.returncode == 0, again.stderr
    crm_line = next(line for line in again.stdout.splitlines() if line.strip().startswith("crm "))
    assert crm_line.split()[1] == "1/1" and "nothing new" not in crm_line
    game_line = next(line for line in again.stdout.splitlines() if line.strip().startswith("game "))
    assert game_line.rstrip().endswith("nothing new")

    start, end = SAMPLE_END - timedelta(days=2), SAMPLE_END - timedelta(days=1)
    backfill = segments(
        cli_env, "backfill", "--config", str(config), "--start", str(start), "--end", str(end)
    )
    assert backfill.returncode == 0, backfill.stderr
    # SAMPLE_END, published before the range, follows it (its changes compare with the day before)
    assert f"Backfill {start}..{end}: computed 3 day(s): {start}, {end}, {SAMPLE_END}" in backfill.stdout
    assert published_days(config) == [(start, False), (end, False), (SAMPLE_END, False)]

    sizes = segments(cli_env, "profile", "--config", str(config))
    assert sizes.returncode == 0, sizes.stderr
    assert f"Published segments as of {SAMPLE_END}: 1," in sizes.stdout
    warehouse = load_config(config).warehouse_path
    before = segments(cli_env, "profile", "--config", str(config), "--as-of", "2020-01-01")
    assert (before.returncode, before.stdout) == (2, "")
    assert before.stderr == (
        f"error: nothing published as of 2020-01-01 in {warehouse}: 3 days published, {start} to {SAMPLE_END}\n"
    )

    with Warehouse.open(load_config(config), read_only=True) as wh:
        customer = wh.scalar(
            "select min(customer_id) from published.customer_segments where as_of = ?", [SAMPLE_END]
        )
    one = segments(cli_env, "profile", customer, "--config", str(config))
    assert one.returncode == 0, one.stderr
    assert customer in one.stdout

    erased = segments(cli_env, "erase", "--config", str(config), "--customer-id", customer)
    assert erased.returncode == 0, erased.stderr
    assert f"\nErased {customer}: " in erased.stdout
    gone = segments(cli_env, "profile", customer, "--config", str(config))
    assert gone.returncode == 2
    assert len(gone.stderr.strip().splitlines()) == 1 and customer in gone.stderr

    names = flow_run_names(api, "daily-refresh")
    assert {f"daily-refresh-{start}", f"daily-refresh-{end}"} <= set(names)
    assert "erase-customer" not in names and flow_run_names(api, "erase-customer")


def test_a_data_error_in_a_run_is_one_line_and_exit_2_with_the_traceback_in_the_log(
    cli_env: dict[str, str], sample_data: Path, tmp_path: Path
) -> None:
    # every file passes the checks before the run; the load then quarantines more than the allowed share
    config = write_config(sample_data, tmp_path)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    game = next(source for source in settings["sources"] if source["name"] == "game")
    game["max_bad_row_share"] = 0.0
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")

    result = segments(cli_env, "run", "--config", str(config), "--as-of", SAMPLE_END.isoformat())
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "game" in errors[0] and "max_bad_row_share" in errors[0]
    assert "Traceback" not in result.stdout + result.stderr
    log = (tmp_path / "logs" / "segments.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "max_bad_row_share" in log


@pytest.mark.file_backend("it damages the DuckDB file")
def test_an_unexpected_failure_says_where_the_full_log_is(
    cli_env: dict[str, str], sample_data: Path, tmp_path: Path
) -> None:
    config = write_config(sample_data, tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    # a damaged warehouse file is found by the check before anything runs, with what to do
    warehouse.write_bytes(b"not a database" * 1000)
    damaged = segments(cli_env, "run", "--config", str(config), "--as-of", SAMPLE_END.isoformat())
    assert damaged.returncode == 2, damaged.stdout + damaged.stderr
    assert f"error: warehouse: {warehouse}: cannot be opened: IO Error: The file" in damaged.stderr
    assert DAMAGED_FILE_ADVICE in damaged.stderr and "nothing was run" in damaged.stderr
    assert "Traceback" not in damaged.stdout + damaged.stderr

    # a table of the warehouse is not the product's (not a config or data error of the user's rows): the run
    # fails inside extract
    warehouse.unlink()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema audit; create table audit.load_state (foreign_column integer)")
    result = segments(cli_env, "run", "--config", str(config), "--as-of", SAMPLE_END.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    log_file = tmp_path / "logs" / "segments.log"
    assert f"The full log, with the traceback: {log_file} (or run again with --debug)" in result.stderr
    assert "Traceback (most recent call last)" in log_file.read_text(encoding="utf-8")

    debug = segments(cli_env, "--debug", "run", "--config", str(config), "--as-of", SAMPLE_END.isoformat())
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_an_unknown_full_refresh_source_is_refused_before_anything_runs(
    sample_data: Path, tmp_path: Path
) -> None:
    config = write_config(sample_data, tmp_path)
    result = subprocess.run(
        [SEGMENTS, "run", "--config", str(config), "--full-refresh", "crn"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == f"error: --full-refresh: no source named crn in {config} or its warehouse\n"
    assert not (tmp_path / "warehouse.duckdb").exists()


RETAIL_CSV = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
536366,71053,WHITE LANTERN,2,12/1/2010 8:28,3.39,17851.0,United Kingdom
"""

RETAIL_CONFIG = """warehouse: warehouse.duckdb
timezone: Europe/London
exports: exports
sources:
  - name: shop
    kind: transactions
    format: csv
    path: retail*.csv
    columns:
      txn_id: "InvoiceNo || '-' || StockCode"
      order_id: InvoiceNo
      customer_ref: "cast(cast(CustomerID as double) as bigint)"
      amount: "Quantity * UnitPrice"
      ts: "strptime(InvoiceDate, '%m/%d/%Y %H:%M')"
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("retail*.csv", "retial*.csv"), "sources.shop: no files match retial*.csv"),
        (
            ("Quantity * UnitPrice", "Qty * UnitPrice"),
            "sources.shop: retail.csv, field amount: no column 'Qty'",
        ),
        (
            ("Quantity * UnitPrice", "Description * UnitPrice"),
            "sources.shop: retail.csv row 1, field amount: every sampled row fails (2 of 2)",
        ),
        (("    kind: transactions", "   kind: transactions"), "config.yaml line 6, column"),
    ],
)
def test_check_finds_the_problem_without_a_server_in_one_line(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    (tmp_path / "retail.csv").write_text(RETAIL_CSV, encoding="utf-8")
    (tmp_path / "config.yaml").write_text(RETAIL_CONFIG.replace(*change), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")} | {
        "SEGMENTS_PREFECT_PORT": "9"
    }
    result = subprocess.run(
        [SEGMENTS, "check", "--config", str(tmp_path / "config.yaml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr and "prefect" not in result.stderr.lower()
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_check_passes_the_readme_shaped_config(tmp_path: Path) -> None:
    (tmp_path / "retail.csv").write_text(RETAIL_CSV, encoding="utf-8")
    (tmp_path / "config.yaml").write_text(RETAIL_CONFIG, encoding="utf-8")
    result = subprocess.run(
        [SEGMENTS, "check", "--config", str(tmp_path / "config.yaml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'config.yaml'}: OK — 1 sources checked")


def start_retail_run(folder: Path, sink: IO[str]) -> subprocess.Popen:
    """`segments run` of the retail config in folder, output to sink, with no Prefect server to report to (the
    command starts a temporary one), in a session of its own: the command and what it starts are one process group."""
    (folder / "retail.csv").write_text(RETAIL_CSV, encoding="utf-8")
    (folder / "config.yaml").write_text(RETAIL_CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")} | {
        "SEGMENTS_PREFECT_PORT": "9"
    }
    return subprocess.Popen(
        [SEGMENTS, "run", "--config", str(folder / "config.yaml"), "--as-of", "2026-03-31"],
        stdout=sink,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def test_a_run_stopped_by_sigterm_exits_143_and_leaves_no_temporary_server(tmp_path: Path) -> None:
    import signal
    import time

    output = tmp_path / "output.txt"
    with output.open("w") as sink:
        run = start_retail_run(tmp_path, sink)
        deadline = time.monotonic() + 120
        while "Beginning flow run" not in output.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 143, output.read_text()
    assert "stopped: the run was stopped by a signal (SIGTERM" in output.read_text()
    time.sleep(2)  # the temporary server is stopped on the way out, not left running (it was, before)
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)


@pytest.mark.parametrize("moment", ["server starting", "flow running"])
def test_a_run_killed_with_sigkill_leaves_no_temporary_server(tmp_path: Path, moment: str) -> None:
    import signal
    import time

    output = tmp_path / "output.txt"
    with output.open("w") as sink:
        run = start_retail_run(tmp_path, sink)
        deadline = time.monotonic() + 120
        server: list[int] = []
        while time.monotonic() < deadline:
            server = children(run.pid, b"prefect.server.api.server:create_app")
            if server and (moment == "server starting" or "Beginning flow run" in output.read_text()):
                break  # starting: the server process exists and does not answer yet (5 to 20 s)
            time.sleep(0.02)
        assert len(server) == 1, output.read_text()
        run.send_signal(signal.SIGKILL)  # the command only, as `kill -9 PID` does: no exit handler runs
        assert run.wait(timeout=60) == -signal.SIGKILL
    deadline = time.monotonic() + 20  # the watcher looks every second and gives the server 10 s to stop
    while Path(f"/proc/{server[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{server[0]}").exists(), "the temporary server outlived the killed command"


def children(pid: int, mark: bytes) -> list[int]:
    """The child processes of pid whose command line holds mark."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or (proc / "stat").read_text().rsplit(")", 1)[1].split()[1] != str(
                pid
            ):
                continue
            if mark in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found
