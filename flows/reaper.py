"""Stop the temporary Prefect server of a command that was killed: `python -m flows.reaper`, its stdin a pipe from
the command.

A command with no Prefect server to report to starts a temporary one (prefect's SubprocessASGIServer, about 200 MB),
and stops it on its way out. SIGKILL leaves no way out: the server stayed running, one per killed run. This watcher
is started, in a session of its own, before the server, with a token (its one argument) that the command puts in
the environment each server it starts inherits (TOKEN_VARIABLE). Its stdin ends when the command ends, however it
ended (the kernel closes the pipe): then each Prefect server process whose environment holds the token is sent
SIGTERM (SIGKILL 10 s later). A server is marked from its first instruction on, so no kill falls between its start
and the watcher knowing it (the command once wrote the watcher each server's process id after starting it, and a
kill between the two left the server running). After a normal exit the command has stopped the server already,
and the watcher finds nothing to do.
"""

import os
import signal
import sys
import time
from pathlib import Path
from typing import BinaryIO

SERVER_MARK = b"prefect.server.api.server:create_app"  # in the command line of a server it may stop
# its value, the watcher's token, marks the servers the watcher stops
TOKEN_VARIABLE = "SEGMENTS_SERVER_WATCHER"
GRACE_SECONDS = 10.0
# after the pipe closed, looked again this often: a server the command was starting as it was killed may still be
# between fork and exec (its command line and environment not yet the server's)
LOOKS, LOOK_EVERY_SECONDS = 3, 1.0


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


def marked(token: str) -> list[int]:
    """The running Prefect servers whose environment holds token."""
    entry = f"{TOKEN_VARIABLE}={token}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if SERVER_MARK in (proc / "cmdline").read_bytes() and entry in (
                proc / "environ"
            ).read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def watch(stream: BinaryIO, token: str) -> None:
    """Wait until the command's end closes the pipe, then stop the servers it started that still run."""
    while stream.read(4096):
        pass
    for look in range(LOOKS):
        if look:
            time.sleep(LOOK_EVERY_SECONDS)
        stop(marked(token))


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the command's to handle
    watch(sys.stdin.buffer, sys.argv[1])
