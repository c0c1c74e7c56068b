-- The stored blocking keys of some records (core.match_state_keys): of the records gone or changed, and of
-- the records of the kept links (tasks/dedupe/incremental.py).
-- Grain: one row per rule, key and record in _match_state_wanted(record_source, record_id).
-- Key: rule, key, record_source, record_id. Parameters: none.
with state_keys as (
    select * from core.match_state_keys
),

wanted as (
    select * from _match_state_wanted
),

final as (
    select
        state_keys.rule,
        state_keys.key,
        state_keys.record_source,
        state_keys.record_id
    from state_keys
    semi join wanted
        on wanted.record_source = state_keys.record_source
        and wanted.record_id = state_keys.record_id
)

select * from final
