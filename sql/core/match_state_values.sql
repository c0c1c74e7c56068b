-- How many unchanged stored records (not gone or changed) have a value of one prepared field: a configured
-- comparison that no record has a value of adds nothing (tasks/dedupe/incremental.py).
-- Grain: one row. Parameters: none. {{column}}: the prepared field (a comparison's column, checked in code).
-- Input: _match_state_gone(record_source, record_id), the records gone or changed.
with state_records as (
    select * from core.match_state_records
),

gone as (
    select * from _match_state_gone
),

final as (
    select count({{column}}) as records
    from state_records
    anti join gone
        on gone.record_source = state_records.record_source
        and gone.record_id = state_records.record_id
)

select * from final
