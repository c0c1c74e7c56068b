-- Each record's match key values (UNPIVOT leaves out the nulls).
-- Grain: one row per (node, key, value). Key: node, key, value. Parameters: none.
-- {{observations}}: as in graph/records.sql, with every match key (email_norm, phone_norm, national_id,
-- device_id). Input: _link_records (graph/records.sql).
with observations as (
    select * from {{observations}}
),

records as (
    select * from _link_records
),

keyed as (
    select
        records.node,
        cast(observations.email_norm as varchar) as email_norm,
        cast(observations.phone_norm as varchar) as phone_norm,
        cast(observations.national_id as varchar) as national_id,
        cast(observations.device_id as varchar) as device_id
    from observations
    join records using (record_source, record_id)
),

key_values as (
    unpivot keyed
    on email_norm, phone_norm, national_id, device_id
    into name key value value
),

final as (
    select distinct
        node,
        key,
        value
    from key_values
)

select * from final
