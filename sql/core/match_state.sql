-- Table: core.match_state, what the matcher's incremental state (core.match_state_*) belongs to.
-- Grain: one row. Key: model_id. Parameters: none.
-- Input: temp table _match_state written by tasks/dedupe/incremental.py: the fitted model the state's links
-- were scored with (core.match_model), the columns and types of the records it hashed (signature), the
-- state's version, the as_of and records of the run that last brought it up to date.
with state as (
    select * from _match_state
),

final as (
    select
        model_id,
        signature,
        version,
        as_of,
        records
    from state
)

select * from final
