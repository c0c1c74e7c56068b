-- The records holding each changed key value now (graph/changed_keys.sql), over every record.
-- Grain: one row per (key, value, record). Key: key, value, record_source, record_id. Parameters: none.
-- Input: _changed_keys, the view _holders (graph/holders.sql over _observations).
with changed_keys as (
    select * from _changed_keys
),

holders as (
    select * from _holders
),

final as (
    select
        holders.key,
        holders.value,
        holders.record_source,
        holders.record_id
    from holders
    semi join changed_keys
        on changed_keys.key = holders.key
        and changed_keys.value = holders.value
)

select * from final
