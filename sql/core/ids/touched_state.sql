-- The id state of the touched records (_touched, tasks/dedupe/touched.py): the ids they had after the last
-- forward run, the only state a run that re-resolves them alone reads.
-- Grain: one row per touched record in core.identity_state. Key: source, source_id. Parameters: none.
with state as (
    select * from core.identity_state
),

touched as (
    select * from _touched
),

final as (
    select
        state.source,
        state.source_id,
        state.customer_id
    from state
    where (state.source, state.source_id) in (select (record_source, record_id) from touched)
)

select * from final
