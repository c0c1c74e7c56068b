-- The records the matcher state should hold (core.match_state, as the last run left it) and those it holds:
-- fewer when an erasure deleted a person's rows since (tasks/dedupe/incremental.py: state_lost_rows).
-- Grain: one row (none without a state). Key: none. Parameters: none.
with state as (
    select * from core.match_state
),

held as (
    select count(*) as records from core.match_state_records
),

final as (
    select
        state.records as expected,
        held.records as held
    from state
    cross join held
)

select * from final
