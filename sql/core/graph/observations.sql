-- The observations dedupe links records by: core.record_observations with the hashed national id of
-- customer records (another exact key). A temp view of this connection, read by graph/records.sql and
-- graph/edges.sql; the national id itself never leaves core.customer_records: only a SHA-256 of its
-- letters and digits (the first 32 hex digits).
-- Grain: one row per (record_source, record_id, email_norm, phone_norm, device_id), as
-- core.record_observations. Parameters: none.
-- {{view}}: the view's name (_observations; _observations_before over the last run's tables);
-- {{observations}}, {{customer_records}}: core.record_observations and core.customer_records (or their
-- *_before versions, kept by tasks/dedupe/golden.py).
create or replace temp view {{view}} as
with observations as (
    select * from {{observations}}
),

customer_records as (
    select * from {{customer_records}}
),

national_ids as (
    select
        source,
        source_id,
        left(
            sha256('national_id:' || nullif(regexp_replace(upper(cast(national_id as varchar)), '[^0-9A-Z]', '', 'g'), '')),
            32
        ) as national_id
    from customer_records
    where national_id is not null
),

final as (
    select
        observations.*,
        national_ids.national_id
    from observations
    left join national_ids
        on national_ids.source = observations.record_source
        and national_ids.source_id = observations.record_id
)

select * from final
