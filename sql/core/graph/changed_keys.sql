-- The match key values of the records that changed since the last run (core/changed_records.sql), as they
-- were and as they are: their records' count can have changed, so can the links through them.
-- Grain: one row per (key, value). Key: key, value. Parameters: none.
-- Input: _changed_records, the views _observations and _observations_before (graph/observations.sql).
with changed as (
    select * from _changed_records
),

observations as (
    select * from _observations
    where (record_source, record_id) in (select (source, source_id) from changed)
),

observations_before as (
    select * from _observations_before
    where (record_source, record_id) in (select (source, source_id) from changed)
),

keyed as (
    select
        cast(email_norm as varchar) as email_norm,
        cast(phone_norm as varchar) as phone_norm,
        cast(national_id as varchar) as national_id,
        cast(device_id as varchar) as device_id
    from observations
    union all
    select
        cast(email_norm as varchar) as email_norm,
        cast(phone_norm as varchar) as phone_norm,
        cast(national_id as varchar) as national_id,
        cast(device_id as varchar) as device_id
    from observations_before
),

key_values as (
    unpivot keyed
    on email_norm, phone_norm, national_id, device_id
    into name key value value
),

final as (
    select distinct
        key,
        value
    from key_values
)

select * from final
