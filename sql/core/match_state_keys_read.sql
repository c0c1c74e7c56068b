-- The matcher's stored blocking keys (core.match_state_keys), read by an incremental run.
-- Grain: one row per rule, key and record. Key: rule, key, record_source, record_id. Parameters: none.
with state_keys as (
    select * from core.match_state_keys
),

final as (
    select
        rule,
        key,
        record_source,
        record_id
    from state_keys
)

select * from final
