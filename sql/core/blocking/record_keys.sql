-- The blocking keys of the matcher's records, without their block sizes (kept by tasks/dedupe/incremental.py).
-- Grain: one row per (rule, node, key). Key: rule, node, key. Parameters: none.
-- Input: _blocking_keys (blocking/keys.sql).
with blocking_keys as (
    select * from _blocking_keys
),

final as (
    select
        rule,
        node,
        key
    from blocking_keys
)

select * from final
order by rule, node, key
