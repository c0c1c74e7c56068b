-- The blocks of a full matcher run's keys, one row per key of a record, for tasks/dedupe/state_blocks.py to
-- count in batches (write_block_counts: it names each block by two polars hashes of its key).
-- Grain: one row per rule, node and key. Parameters: none.
-- Input: temp table _blocking_keys (tasks/dedupe/blocking.py, fill_blocking_keys).
with blocking_keys as (
    select * from _blocking_keys
),

final as (
    select
        rule,
        key
    from blocking_keys
)

select * from final
