-- The customer records whose customer record row or record observations changed since the last run
-- (added, removed or different), found by comparing each table with its last version (the *_before tables,
-- kept by tasks/dedupe/golden.py) row by row on its key: a full join, where a row added, removed or with
-- another value differs from its counterpart (keys are unique; a null one never matches and counts as
-- changed). Read by the golden record (core/golden_dirty.sql) and the record graph (graph/touched_*.sql):
-- every other record was seen with the same keys and values as in the last run.
-- Grain: one row per record (source, source_id). Key: source, source_id. Parameters: none.
-- {{records}}, {{records_before}}, {{observations}}, {{observations_before}}: core.customer_records,
-- core.record_observations and their *_before versions, whole; or, when a run brought the tables up to
-- date in place (tasks/dedupe/records.py), the new and the last rows of the records it recomputed.
with records as (
    select * from {{records}}
),

records_before as (
    select * from {{records_before}}
),

observations as (
    select * from {{observations}}
),

observations_before as (
    select * from {{observations_before}}
),

changed_records as (
    select
        coalesce(records.source, records_before.source) as source,
        coalesce(records.source_id, records_before.source_id) as source_id
    from records
    full join records_before
        on records.source = records_before.source
        and records.source_id = records_before.source_id
    where records is distinct from records_before
),

changed_observations as (
    select
        coalesce(observations.record_source, observations_before.record_source) as source,
        coalesce(observations.record_id, observations_before.record_id) as source_id
    from observations
    full join observations_before
        on observations.record_source = observations_before.record_source
        and observations.record_id = observations_before.record_id
        and observations.email_norm is not distinct from observations_before.email_norm
        and observations.phone_norm is not distinct from observations_before.phone_norm
        and observations.device_id is not distinct from observations_before.device_id
    where observations is distinct from observations_before
),

final as (
    select * from changed_records
    union
    select * from changed_observations
)

select * from final
