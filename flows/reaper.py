"""Stop the temporary Prefect server of a command that was killed: `python -m flows.reaper`, its stdin a pipe from
the command.

A command with no Prefect server to report to starts a temporary one (prefect's SubprocessASGIServer, about 200 MB),
and stops it on its way out. SIGKILL leaves no way out: the server stayed running, one per killed run. This watcher
is started, in a session of its own, before the server; the command writes it each server process id as soon as
the process exists (a line each). Its stdin ends when the command ends, however it ended (the kernel closes the
pipe): then each server still running is sent SIGTERM (SIGKILL 10 s later). After a normal exit the command has
stopped the server already, and the watcher finds nothing to do.
"""

import os
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path

SERVER_MARK = b"prefect.server.api.server:create_app"  # in the command line of a server it may stop
GRACE_SECONDS = 10.0


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def is_server(pid: int) -> bool:
    """Whether pid is still a Prefect server (not another process that got its number)."""
    try:
        return SERVER_MARK in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop(servers: list[int]) -> None:
    """SIGTERM each server still running, SIGKILL those still there after GRACE_SECONDS."""
    running = [pid for pid in servers if alive(pid) and is_server(pid)]
    for pid in running:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while any(alive(pid) for pid in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in running:
        if alive(pid) and is_server(pid):
            os.kill(pid, signal.SIGKILL)


def watch(lines: Iterable[str]) -> None:
    """Read server process ids until the command's end closes the pipe, then stop the servers still running."""
    stop([int(line) for line in lines if line.strip().isdigit()])


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the command's to handle
    watch(sys.stdin)
