-- Table: core.match_state_blocks, how many of the matcher's stored records each block holds (the rows of
-- core.match_state_keys per rule and key), so that an incremental run reads the size of the few blocks the
-- changes reach instead of counting their members (tasks/dedupe/incremental.py).
-- Grain: one row per rule and key with a stored record. Key: rule, kh1, kh2.
-- kh1, kh2: two 64-bit hashes of the key (the key itself, a person's values, is not kept here: an erasure
-- deletes the person's rows of core.match_state_keys, and a hash count holds none of their text).
-- Parameters: none. Input: _match_state_block_sizes (rule, kh1, kh2, size) written by
-- tasks/dedupe/incremental.py (every block after a full run: a temp view of the counts' Parquet file,
-- core/blocking/block_counts; the blocks a run changed, a temp table inserted again after an incremental run).
with blocks as (
    select * from _match_state_block_sizes
),

final as (
    select
        rule,
        kh1,
        kh2,
        size
    from blocks
    where size > 0
)

select * from final
