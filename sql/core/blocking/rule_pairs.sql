-- The pairs each blocking rule would propose, counted before any is chosen (Splink's
-- count_comparisons_from_blocking_rule): per key of 2 to $max_block_size records, n (n - 1) / 2.
-- Grain: one row per rule with keys. Key: rule. Parameters: $max_block_size.
-- Input: _blocking_keys (blocking/keys.sql).
with blocking_keys as (
    select * from _blocking_keys
),

blocks as (
    select
        rule,
        key,
        any_value(block_size) as records
    from blocking_keys
    where block_size between 2 and $max_block_size
    group by rule, key
),

final as (
    select
        rule,
        sum(records * (records - 1) // 2)::bigint as pairs
    from blocks
    group by rule
)

select * from final
