-- The records holding each changed key value now (graph/changed_keys.sql), over every record.
-- Grain: one row per (key, value, record). Key: key, value, record_source, record_id. Parameters: none.
-- Input: _changed_keys, the view _observations (graph/observations.sql).
with changed_keys as (
    select * from _changed_keys
),

observations as (
    select * from _observations
),

holders as (
    select 'email_norm' as key, cast(email_norm as varchar) as value, record_source, record_id
    from observations
    where cast(email_norm as varchar) in (select value from changed_keys where key = 'email_norm')
    union all
    select 'phone_norm' as key, cast(phone_norm as varchar) as value, record_source, record_id
    from observations
    where cast(phone_norm as varchar) in (select value from changed_keys where key = 'phone_norm')
    union all
    select 'national_id' as key, cast(national_id as varchar) as value, record_source, record_id
    from observations
    where cast(national_id as varchar) in (select value from changed_keys where key = 'national_id')
    union all
    select 'device_id' as key, cast(device_id as varchar) as value, record_source, record_id
    from observations
    where cast(device_id as varchar) in (select value from changed_keys where key = 'device_id')
),

final as (
    select distinct
        key,
        value,
        record_source,
        record_id
    from holders
)

select * from final
