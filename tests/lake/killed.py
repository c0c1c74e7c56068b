"""A daily refresh of a lake that SIGKILLs itself inside the publish transaction, for test_lake_readers.py.

python -m tests.lake.killed CONFIG AS_OF. Once the day's published.customer_segments rows are inserted (their
Parquet files written) but before the transaction commits, the process kills itself: nothing runs after.
"""

import os
import signal
import sys

import tasks.publish.tables as tables
from flows.daily_refresh import daily_refresh


def main() -> None:
    def die(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    tables.publish_changes = die  # publish_tables calls it after the day's rows, inside its transaction
    daily_refresh(as_of=sys.argv[2], config=sys.argv[1])


if __name__ == "__main__":
    main()
