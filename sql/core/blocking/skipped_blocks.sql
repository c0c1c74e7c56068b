-- Blocks the matcher skips: one key value of one rule shared by more than $max_block_size records.
-- Grain: one row per (rule, key), the 20 largest. Key: rule, key. Parameters: $max_block_size, $rules
-- (the rules chosen).
-- Input: _blocking_keys (blocking/keys.sql).
with blocking_keys as (
    select * from _blocking_keys
),

final as (
    select
        rule,
        key,
        any_value(block_size) as records
    from blocking_keys
    where block_size > $max_block_size
        and list_contains($rules, rule)
    group by rule, key
)

select * from final
order by records desc, rule, key
limit 20
