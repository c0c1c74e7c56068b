"""The run's time limit, when reached, names the setting (not Prefect's bare 'Scope timed out after N second(s).')."""

import time

import pytest

from flows.daily_refresh import time_limit
from tasks.shared.errors import WaitedTooLong
from tasks.shared.lock import WarehouseLockTimeout


def test_reaching_the_limit_names_the_setting_and_what_counts_toward_it() -> None:
    with pytest.raises(WaitedTooLong) as raised, time_limit(1, "daily refresh 2026-12-06"):
        time.sleep(5)
    assert str(raised.value) == (
        "daily refresh 2026-12-06 stopped at its time limit of 1 s (orchestration.timeout_seconds; waiting for the "
        "warehouse lock and for readers of the warehouse file counts): its log says what it was doing or waiting "
        "for; raise the limit or end what held the warehouse"
    )


def test_a_wait_that_reached_the_limit_first_keeps_its_own_error_and_a_quick_block_none() -> None:
    said = "waited 25 s for the warehouse lock, held by backfill (pid 7)"
    with pytest.raises(WarehouseLockTimeout, match="held by backfill"), time_limit(30, "daily refresh"):
        raise WarehouseLockTimeout(said)
    with time_limit(30, "daily refresh"):
        pass
