-- The records holding each changed key value now (graph/changed_keys.sql), over every record: one pass over
-- the observations, their keys unpivoted as graph/edges.sql does (UNPIVOT leaves out the nulls).
-- Grain: one row per (key, value, record). Key: key, value, record_source, record_id. Parameters: none.
-- Input: _changed_keys, the view _observations (graph/observations.sql).
with changed_keys as (
    select * from _changed_keys
),

observations as (
    select * from _observations
),

keyed as (
    select
        record_source,
        record_id,
        cast(email_norm as varchar) as email_norm,
        cast(phone_norm as varchar) as phone_norm,
        cast(national_id as varchar) as national_id,
        cast(device_id as varchar) as device_id
    from observations
),

key_values as (
    unpivot keyed
    on email_norm, phone_norm, national_id, device_id
    into name key value value
),

final as (
    select distinct
        key_values.key,
        key_values.value,
        key_values.record_source,
        key_values.record_id
    from key_values
    semi join changed_keys
        on changed_keys.key = key_values.key
        and changed_keys.value = key_values.value
)

select * from final
