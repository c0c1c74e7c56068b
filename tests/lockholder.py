"""Another process that holds the warehouse writer lock, for tests of waiting, time limits and messages."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

HOLD_LOCK = """
import sys, time, logging
from pathlib import Path
from tasks.shared.lock import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), "a test holder", logging.getLogger("holder")):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(warehouse: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the warehouse lock for a while; returns once it holds it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse), str(seconds)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    return process
