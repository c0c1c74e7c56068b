-- The matcher's stored records by their hashes only (core.match_state_records): an incremental run compares
-- them with the current records' hashes to find the records new, changed or gone.
-- Grain: one row per record. Key: record_source, record_id. Parameters: none.
with state_records as (
    select * from core.match_state_records
),

final as (
    select
        record_source,
        record_id,
        h1,
        h2
    from state_records
)

select * from final
