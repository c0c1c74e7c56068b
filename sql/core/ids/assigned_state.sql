-- The state a forward run leaves for each record it assigned: its customer_id (into core.identity_state).
-- Grain: one row per record (source, source_id). Key: source, source_id. Parameters: $as_of, $run_id.
-- Input: temp table _assigned(record_source, record_id, customer_id), written by tasks/dedupe/ids.py.
with assigned as (
    select * from _assigned
),

final as (
    select
        record_source as source,
        record_id as source_id,
        customer_id,
        $as_of::date as as_of,
        $run_id::varchar as run_id
    from assigned
)

select * from final
