-- The matcher's stored records (core.match_state_records), read by an incremental run.
-- Grain: one row per record. Key: record_source, record_id. Parameters: none.
with state_records as (
    select * from core.match_state_records
),

final as (
    select * from state_records
)

select * from final
