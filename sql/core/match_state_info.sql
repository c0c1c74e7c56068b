-- Whether the matcher's state can serve an incremental run (tasks/dedupe/incremental.py: state_problem).
-- Grain: one row (none without a state). Key: none. Parameters: none.
with state as (
    select * from core.match_state
),

final as (
    select
        model_id,
        signature,
        version
    from state
)

select * from final
