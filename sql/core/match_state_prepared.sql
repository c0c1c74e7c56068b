-- The stored prepared fields of some records (core.match_state_records): the unchanged records of the pairs
-- an incremental run scores.
-- Grain: one row per record in _match_state_wanted(record_source, record_id), written by
-- tasks/dedupe/incremental.py. Key: record_source, record_id. Parameters: none.
with state_records as (
    select * from core.match_state_records
),

wanted as (
    select * from _match_state_wanted
),

final as (
    select state_records.*
    from state_records
    semi join wanted
        on wanted.record_source = state_records.record_source
        and wanted.record_id = state_records.record_id
)

select * from final
