"""A quiet interpreter exit after Prefect runs that used DuckDB."""

import logging
import os
import sys


def silence_teardown_noise() -> None:
    """Flush logs and output, then send the process's remaining stderr to /dev/null.

    DuckDB 2.0's bindings print dozens of spurious "nanobind: leaked instance" lines while the
    interpreter tears down after a Prefect flow run. Call this only when all work and reporting is
    done: every log handler (Prefect's API log shipping included) is flushed first.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stderr.fileno())
    os.close(devnull)
