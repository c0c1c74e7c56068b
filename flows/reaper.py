"""Stop the temporary Prefect server of a command that was killed: `python -m flows.reaper COMMAND_PID SERVER_PID`.

A command with no Prefect server to report to starts a temporary one (prefect's SubprocessASGIServer, about 200 MB),
and stops it on its way out. SIGKILL leaves no way out: the server stayed running, one per killed run. This watcher,
started beside the server in a session of its own, checks every second; when the command is gone and the server
is still there, it sends the server SIGTERM (SIGKILL 10 s later), then ends. It ends too when the server stops
first (the command's own exit stopped it).
"""

import os
import signal
import sys
import time
from pathlib import Path

SERVER_MARK = b"prefect.server.api.server:create_app"  # in the command line of the server it may stop
POLL_SECONDS = 1.0
GRACE_SECONDS = 10.0


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def is_server(pid: int) -> bool:
    """Whether pid is still a Prefect server (not another process that got its number)."""
    try:
        return SERVER_MARK in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def watch(command: int, server: int) -> None:
    """Wait for the command or the server to end; stop the server if the command ended first."""
    while alive(server) and is_server(server):
        if not alive(command):
            os.kill(server, signal.SIGTERM)
            deadline = time.monotonic() + GRACE_SECONDS
            while alive(server) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive(server) and is_server(server):
                os.kill(server, signal.SIGKILL)
            return
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    watch(int(sys.argv[1]), int(sys.argv[2]))
