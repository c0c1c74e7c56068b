"""The watcher that stops a killed command's temporary Prefect server (flows/reaper.py): it stops the servers marked
with its token when the command's pipe closes, however early the command died, and no other process."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.reaper import SERVER_MARK, TOKEN_VARIABLE, alive
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the watcher reads /proc")


def fake_server(token: str | None) -> subprocess.Popen:
    """A process whose command line reads as a Prefect server's, marked with token (None: unmarked)."""
    env = {key: value for key, value in os.environ.items() if key != TOKEN_VARIABLE}
    if token is not None:
        env[TOKEN_VARIABLE] = token
    script = "import time; time.sleep(120)"
    return subprocess.Popen([sys.executable, "-c", script, SERVER_MARK.decode()], env=env)


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_the_watcher_stops_the_servers_holding_its_token_and_no_other() -> None:
    watcher = subprocess.Popen(
        [sys.executable, "-m", "flows.reaper", "token-a"], cwd=REPO, stdin=subprocess.PIPE
    )
    ours, other, unmarked = fake_server("token-a"), fake_server("token-b"), fake_server(None)
    try:
        time.sleep(0.5)  # the servers run (a server started after the pipe closed is not the command's)
        assert watcher.poll() is None  # it waits for the command's end
        assert watcher.stdin is not None
        watcher.stdin.close()  # the command's end, as the kernel closes the pipe of a killed command
        assert watcher.wait(timeout=30) == 0
        ours.wait(timeout=5)
        assert ours.returncode == -15  # SIGTERM: the server's own shutdown runs
        assert other.poll() is None and unmarked.poll() is None
    finally:
        for process in (ours, other, unmarked):
            process.kill()
            process.wait()


def test_a_server_started_by_a_command_killed_at_once_is_stopped(tmp_path: Path) -> None:
    """The command dies the instant its server exists: nothing but the environment told the watcher of it."""
    command = (
        "import os, subprocess, sys\n"
        f"os.environ[{TOKEN_VARIABLE!r}] = 'token-c'\n"
        f"server = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', {SERVER_MARK.decode()!r}], "
        "stdin=subprocess.DEVNULL)\n"
        "print(server.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    watcher = subprocess.Popen(
        [sys.executable, "-m", "flows.reaper", "token-c"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    assert watcher.stdin is not None
    run = subprocess.Popen(
        [sys.executable, "-c", command], stdin=watcher.stdin, stdout=subprocess.PIPE, text=True
    )
    watcher.stdin.close()  # the command holds the pipe's only writing end
    assert run.stdout is not None
    server = int(run.stdout.readline())
    assert run.wait(timeout=30) == -9
    try:
        assert watcher.wait(timeout=30) == 0
        assert wait_gone(server, 5), "the killed command's server still runs"
    finally:
        if alive(server):
            os.kill(server, 9)
