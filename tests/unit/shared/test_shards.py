"""tasks/shared/shards.py outside a flow run: every shard is computed here, in order, and says why; the
SQL conditions of a shard."""

import logging
from datetime import date

import pytest

from tasks.shared.shards import ALL, ShardPlan, fragments, run_shards


def test_outside_a_flow_run_every_shard_is_computed_here_in_order(prefect_server: None) -> None:
    computed: list[int] = []
    plan = ShardPlan("features", 3, date(2026, 11, 22), "/nowhere/config.yaml", 1, 60, "features.t_parts")
    runs = run_shards(plan, computed.append, logging.getLogger("test"))
    assert computed == [0, 1, 2]
    assert runs.ran == dict.fromkeys(range(3), "here (not in a flow run)")
    assert runs.remote == 0


def test_a_shard_is_a_hash_condition_and_one_shard_is_everything() -> None:
    assert fragments(0, 1) == ALL
    assert fragments(2, 4)["shard"] == "hash(customer_id) % 4 = 2"
    assert "hash(shard_identity.customer_id) % 4 = 2" in fragments(2, 4)["shard_records"]
    with pytest.raises(ValueError, match=r"shard 4 is not one of 0..3"):
        fragments(4, 4)
