"""Prefect flows: the daily refresh, the backfill and the erasure.

A process that imported them (a worker's flow-run process, a notebook) exits quietly: DuckDB 2.0's
bindings print dozens of "nanobind: leaked instance" lines while the interpreter tears down after a flow
run (flows/shutdown.py); at exit, after every log handler is flushed, the rest of stderr is dropped.
"""

import atexit

from flows.shutdown import silence_teardown_noise

atexit.register(silence_teardown_noise)
