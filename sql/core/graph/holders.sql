-- The records holding each match key value (UNPIVOT leaves out the nulls), as the record graph reads them
-- (graph/edges.sql).
-- Grain: one row per (key, value, record). Key: key, value, record_source, record_id. Parameters: none.
-- {{observations}}: as in graph/records.sql, with every match key (email_norm, phone_norm, national_id, device_id).
with observations as (
    select * from {{observations}}
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
        key,
        value,
        record_source,
        record_id
    from key_values
)

select * from final
