"""The matcher state's blocks: how many records each holds (core.match_state_blocks), and the kept links
they still propose.

A block is one key value of one blocking rule; with the stored model it proposes its pairs when it holds 2
to max_block_size records. core.match_state_blocks counts the records of core.match_state_keys per block
(named by its rule and two hashes of its key), kept up to date run by run, so an incremental run
(tasks/dedupe/incremental.py) reads the size of the few blocks its changes reach instead of counting their
members; and since a stored link was proposed by such a block in the run that stored it, only the links
whose records share a block that entered or left that range this run are checked again.
"""

from pathlib import Path

import polars as pl

from tasks.shared.warehouse import Warehouse

RECORD_KEY = ["record_source", "record_id"]
KEY_HASHES = ["kh1", "kh2"]  # core.match_state_blocks names a block by its rule and two hashes of its key
BLOCK = ["rule", "key"]
BLOCK_SCHEMA = {"rule": pl.String, "key": pl.String}
COUNT_BATCH_NODES = 100_000  # records whose keys count_blocks names per batch (~10 keys each)


def still_proposed(
    links: pl.DataFrame, keys: pl.DataFrame, sizes: pl.DataFrame, max_block_size: int
) -> pl.DataFrame:
    """The links (left, right, ...) whose two records still share a block of 2 to max_block_size records.

    keys: rule, key, node of the links' records (every key of theirs); sizes: rule, key, size of those
    blocks this run (every record in them counted, not only the links' records).
    """
    usable = keys.join(
        sizes.filter(pl.col("size").is_between(2, max_block_size)), on=["rule", "key"], how="semi"
    ).select("rule", "key", "node")
    left = links.select("left", "right").join(usable.rename({"node": "left"}), on="left")
    shared = left.join(usable.rename({"node": "right"}), on=["rule", "key", "right"], how="semi")
    return links.join(shared.select("left", "right").unique(), on=["left", "right"], how="semi")


def state_frame(wh: Warehouse, model: str, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """A model over the state read with a temp table (_match_state_wanted or _match_state_blocks) holding frame."""
    wh.write_frame(table, frame, temp=True)
    result = wh.frame(wh.model_sql(model))
    wh.execute(f"drop table {table}")
    return result


def key_hashes(blocks: pl.DataFrame) -> pl.DataFrame:
    """blocks (rule, key, ...) with kh1, kh2: two 64-bit hashes of the key, as core.match_state_blocks names it
    (polars' hashes are stable within a version: record_signature holds it)."""
    return blocks.with_columns(
        kh1=pl.col("key").hash(seed=0),
        kh2=pl.col("key").hash(seed=0x9E3779B97F4A7C15),
    )


def block_sizes(
    wh: Warehouse, blocks: pl.DataFrame, dirty_keys: pl.DataFrame, keys_gone: pl.DataFrame
) -> pl.DataFrame:
    """rule, key, before, size of some blocks (rule, key): their records in the state (core.match_state_blocks,
    the counts of core.match_state_keys), and this run: those minus the gone and changed records' stored keys
    (keys_gone: rule, key, ...) plus the new and changed records' keys (dirty_keys: rule, key, ...)."""
    hashed = key_hashes(blocks.select(BLOCK).unique())
    stored = state_frame(
        wh, "core/match_state_block_sizes", "_match_state_wanted_blocks", hashed.select("rule", *KEY_HASHES)
    )
    dirty = dirty_keys.group_by(BLOCK).agg(dirty=pl.len().cast(pl.Int64))
    gone = keys_gone.group_by(BLOCK).agg(gone=pl.len().cast(pl.Int64))
    return (
        hashed.join(stored, on=["rule", *KEY_HASHES], how="left")
        .join(dirty, on=BLOCK, how="left")
        .join(gone, on=BLOCK, how="left")
        .select(
            *BLOCK,
            before=pl.col("size").fill_null(0).cast(pl.Int64),
            size=pl.col("size").fill_null(0).cast(pl.Int64)
            - pl.col("gone").fill_null(0)
            + pl.col("dirty").fill_null(0),
        )
    )


def kept_links_proposed(
    wh: Warehouse,
    links_kept: pl.DataFrame,
    ids: pl.DataFrame,
    flipped: pl.DataFrame,
    dirty_keys: pl.DataFrame,
    keys_gone: pl.DataFrame,
    max_block_size: int,
) -> pl.DataFrame:
    """The kept links (left, right, ...: two unchanged records) still proposed by a block of 2 to max_block_size
    records (still_proposed).

    A stored link was proposed by such a block in the run that stored it, and its records' keys are unchanged;
    so only a link whose records share a block that entered or left that range this run (flipped: rule, key)
    may no longer be: only those are checked, against the sizes of every block of theirs.
    """
    if flipped.is_empty() or links_kept.is_empty():
        return links_kept
    linked = pl.concat(
        [
            links_kept.select(record_source="source_a", record_id="id_a"),
            links_kept.select(record_source="source_b", record_id="id_b"),
        ]
    ).unique()
    wh.write_frame("_match_state_blocks", flipped.select(BLOCK), temp=True)
    members = state_frame(wh, "core/match_state_flipped_members", "_match_state_wanted", linked)
    wh.execute("drop table _match_state_blocks")
    members = members.join(ids, on=RECORD_KEY).select(*BLOCK, "node")
    shared = (
        links_kept.select("left", "right")
        .join(members.rename({"node": "left"}), on="left")
        .join(members.rename({"node": "right"}), on=[*BLOCK, "right"], how="semi")
        .select("left", "right")
        .unique()
    )
    if shared.is_empty():
        return links_kept
    nodes = pl.concat([shared["left"], shared["right"]]).unique()
    records = ids.filter(pl.col("node").is_in(nodes.implode())).select(RECORD_KEY)
    keys = state_frame(wh, "core/match_state_keys_of", "_match_state_wanted", records).join(
        ids, on=RECORD_KEY
    )
    sizes = block_sizes(wh, keys.select(BLOCK), dirty_keys, keys_gone).select(*BLOCK, "size")
    checked = still_proposed(
        links_kept.join(shared, on=["left", "right"], how="semi"),
        keys.select(*BLOCK, "node"),
        sizes,
        max_block_size,
    )
    return pl.concat([links_kept.join(shared, on=["left", "right"], how="anti"), checked])


def store_block_sizes(wh: Warehouse, sizes: pl.DataFrame) -> None:
    """Bring core.match_state_blocks up to date with the sizes this run (block_sizes: rule, key, size) of the
    blocks it changed: their rows forgotten, then inserted again (those left empty are not kept)."""
    changed = key_hashes(sizes).select("rule", *KEY_HASHES, "size")
    wh.write_frame("_match_state_block_sizes", changed, temp=True)
    wh.run("core/match_state_blocks_forget")
    if changed.filter(pl.col("size") > 0).height:  # no insert of no rows (a DuckDB 2.0 transaction)
        wh.insert("core.match_state_blocks", "core/match_state_blocks")
    wh.execute("drop table _match_state_block_sizes")


def count_blocks(scratch: Warehouse, nodes: int, path: Path) -> None:
    """Write the counts of every block of a full run's keys (the temp table _blocking_keys of scratch, a
    Warehouse.scratch, nodes 0 .. nodes - 1) to a Parquet file (rule, kh1, kh2, size): each batch of records'
    keys is named in polars (key_hashes, as incremental runs name blocks) and the names are counted by
    scratch. No copy of every key is held in Python."""
    for first in range(0, max(nodes, 1), COUNT_BATCH_NODES):
        batch = scratch.frame(
            scratch.model_sql("core/blocking/block_keys"), {"first": first, "last": first + COUNT_BATCH_NODES}
        )
        hashed = key_hashes(batch.cast(BLOCK_SCHEMA)).select("rule", *KEY_HASHES)
        if first:
            scratch.append_frame("_match_state_block_keys", hashed)
        else:
            scratch.write_frame("_match_state_block_keys", hashed, temp=True)
    scratch.copy_model(path, "core/blocking/block_counts")
    scratch.execute("drop table _match_state_block_keys")
