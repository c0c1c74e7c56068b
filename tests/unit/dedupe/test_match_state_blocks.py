"""The matcher state's block sizes (core.match_state_blocks) and the kept links an incremental run checks."""

import polars as pl
import pytest

from tasks.dedupe import state_blocks
from tasks.dedupe.state_blocks import BLOCK, KEY_HASHES, block_sizes, kept_links_proposed, key_hashes
from tasks.shared.warehouse import Warehouse

MAX_BLOCK_SIZE = 3
# the stored keys (rule, key, record) before the run: r7 is gone since (its keys are those of keys_gone)
STATE_KEYS = [
    ("name", "A", "r1"),
    ("name", "A", "r2"),
    ("name", "B", "r3"),
    ("name", "B", "r4"),
    ("name", "B", "r5"),
    ("city", "X", "r3"),
    ("city", "X", "r4"),
    ("city", "X", "r6"),
    ("city", "X", "r7"),
    ("dob", "D", "r5"),
    ("dob", "D", "r6"),
    ("name", "C", "r9"),
    ("name", "C", "r10"),
    ("name", "C", "r11"),
]
RECORDS = [f"r{n}" for n in range(1, 13) if n != 7]  # the current records, node = position
NODE = {record: node for node, record in enumerate(RECORDS)}


def block_counts(keys: pl.DataFrame) -> pl.DataFrame:
    """rule, kh1, kh2, size: how many rows of keys (rule, key, ...) each block holds, counted in polars (what
    core.match_state_blocks must hold for them)."""
    return (
        key_hashes(keys.select(BLOCK))
        .group_by("rule", *KEY_HASHES)
        .agg(size=pl.len().cast(pl.Int64))
        .sort("rule", *KEY_HASHES)
    )


def state(wh: Warehouse) -> None:
    """core.match_state_keys and core.match_state_blocks of STATE_KEYS (all records in source crm)."""
    keys = pl.DataFrame(STATE_KEYS, schema=["rule", "key", "record_id"], orient="row").with_columns(
        record_source=pl.lit("crm")
    )
    wh.execute("create schema if not exists core")
    wh.write_frame("core.match_state_keys", keys.select("rule", "key", "record_source", "record_id"))
    wh.write_frame("core.match_state_blocks", block_counts(keys))


def test_block_counts_name_each_block_by_its_rule_and_key_hashes() -> None:
    counts = block_counts(pl.DataFrame(STATE_KEYS, schema=["rule", "key", "record_id"], orient="row"))
    named = counts.join(key_hashes(pl.DataFrame({"key": ["A", "B", "C", "D", "X"]})), on=["kh1", "kh2"])
    assert sorted(named.select("rule", "key", "size").rows()) == [
        ("city", "X", 4),
        ("dob", "D", 2),
        ("name", "A", 2),
        ("name", "B", 3),
        ("name", "C", 3),
    ]
    assert named.height == counts.height  # two hashes name one key


@pytest.mark.parametrize("batch_nodes", [1, 3, 100])
def test_a_full_run_counts_its_blocks_in_batches_as_block_counts_does(
    batch_nodes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a full run's keys stay in DuckDB (_blocking_keys); they are named batch by batch of records and counted there
    monkeypatch.setattr(state_blocks, "COUNT_BATCH_NODES", batch_nodes)
    keys = pl.DataFrame(STATE_KEYS, schema=["rule", "key", "record_id"], orient="row").with_columns(
        node=pl.col("record_id").str.slice(1).cast(pl.Int64) - 1
    )
    with Warehouse(":memory:") as wh, wh.scratch() as (scratch, folder):
        scratch.write_frame("_blocking_keys", keys.select("rule", "node", "key"), temp=True)
        state_blocks.count_blocks(scratch, 11, folder / "blocks.parquet")
        assert scratch.rows(
            "select count(*) from duckdb_tables() where table_name like '_match_state_block%'"
        ) == [(0,)]
        stored = wh.frame(f"select rule, kh1, kh2, size from '{folder}/blocks.parquet' order by all")
    assert stored.rows() == block_counts(keys).sort(pl.all()).rows()
    assert sorted(stored["size"].to_list()) == [2, 2, 3, 3, 4]


def test_block_sizes_are_the_stored_counts_minus_the_gone_plus_the_new() -> None:
    dirty_keys = pl.DataFrame(
        {
            "rule": ["name", "name", "name"],
            "key": ["B", "C", "E"],
            "node": [NODE["r8"], NODE["r12"], NODE["r8"]],
        }
    )
    keys_gone = pl.DataFrame({"rule": ["city"], "key": ["X"]})  # r7's
    blocks = pl.DataFrame({"rule": ["name", "city", "name", "name", "dob", "name"], "key": list("BXCEDZ")})
    with Warehouse(":memory:") as wh:
        state(wh)
        sizes = block_sizes(wh, blocks, dirty_keys, keys_gone)
    assert sorted(sizes.rows()) == [
        ("city", "X", 4, 3),
        ("dob", "D", 2, 2),
        ("name", "B", 3, 4),
        ("name", "C", 3, 4),
        ("name", "E", 0, 1),
        ("name", "Z", 0, 0),
    ]


def test_only_links_sharing_a_block_that_left_or_entered_the_range_are_checked() -> None:
    # r8 joins block name/B (3 -> 4: out of range), r12 joins name/C (3 -> 4), r7 left city/X (4 -> 3: in range)
    dirty_keys = pl.DataFrame(
        {"rule": ["name", "name"], "key": ["B", "C"], "node": [NODE["r8"], NODE["r12"]]}
    )
    keys_gone = pl.DataFrame({"rule": ["city"], "key": ["X"]})
    flipped = pl.DataFrame({"rule": ["name", "city", "name"], "key": ["B", "X", "C"]})
    pairs = [("r1", "r2"), ("r3", "r4"), ("r5", "r6"), ("r9", "r10")]
    links = pl.DataFrame(
        {
            "left": [NODE[a] for a, _ in pairs],
            "right": [NODE[b] for _, b in pairs],
            "source_a": ["crm"] * 4,
            "id_a": [a for a, _ in pairs],
            "source_b": ["crm"] * 4,
            "id_b": [b for _, b in pairs],
            "match_probability": [0.9, 0.8, 0.7, 0.6],
        }
    )
    ids = pl.DataFrame({"node": list(NODE.values()), "record_source": "crm", "record_id": list(NODE)})
    with Warehouse(":memory:") as wh:
        state(wh)
        kept = kept_links_proposed(wh, links, ids, flipped, dirty_keys, keys_gone, MAX_BLOCK_SIZE)
        nothing_flipped = kept_links_proposed(wh, links, ids, flipped.head(0), dirty_keys, keys_gone, 3)
    # r1-r2: no block of theirs moved; r3-r4: name/B left the range but city/X entered it; r5-r6 share dob/D
    # only (r5's name/B is not r6's); r9-r10 shared name/C alone, now too large: no longer proposed
    assert sorted(kept.select("id_a", "id_b", "match_probability").rows()) == [
        ("r1", "r2", 0.9),
        ("r3", "r4", 0.8),
        ("r5", "r6", 0.7),
    ]
    assert nothing_flipped.equals(links)
