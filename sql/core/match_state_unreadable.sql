-- Per comparison, the unchanged stored records (not gone or changed) whose value could not be read: with
-- the new and changed records' flags, the run's unreadable counts (tasks/dedupe/incremental.py).
-- Grain: one row; a column per unreadable__<comparison> flag of core.match_state_records. Parameters: none.
-- Input: _match_state_gone(record_source, record_id), the records gone or changed.
with state_records as (
    select * from core.match_state_records
),

gone as (
    select * from _match_state_gone
),

unchanged as (
    select state_records.*
    from state_records
    anti join gone
        on gone.record_source = state_records.record_source
        and gone.record_id = state_records.record_id
),

final as (
    select sum(columns('^unreadable__'))
    from unchanged
)

select * from final
