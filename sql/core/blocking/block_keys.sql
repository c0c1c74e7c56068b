-- The keys of one batch of a full matcher run's records, for tasks/dedupe/state_blocks.py to name by two polars
-- hashes (count_blocks) before DuckDB counts the blocks (blocking/block_counts.sql).
-- Grain: one row per rule, node and key. Parameters: $first, $last: the batch's nodes, first <= node < last.
-- Input: temp table _blocking_keys (tasks/dedupe/blocking.py, fill_blocking_keys).
with blocking_keys as (
    select * from _blocking_keys
),

final as (
    select
        rule,
        key
    from blocking_keys
    where node >= $first and node < $last
)

select * from final
