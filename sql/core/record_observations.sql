-- Which match keys each customer record was seen with, and since when.
-- Grain: one row per (record_source, record_id, email_norm, phone_norm, device_id).
-- Parameters: $cutoff (exclusive end of the as_of day): later observations are not used.
-- Inputs: {{customer_records}} and {{fact_observations}}: core.customer_records and core.fact_observations
-- (tasks/dedupe/observations.py), or the rows of the records a run brings up to date in place
-- (tasks/dedupe/records.py).
with customer_rows as (
    select
        source as record_source,
        source_id as record_id,
        email_norm,
        phone_norm,
        device_norm as device_id,
        seen_ts
    from {{customer_records}}
),

-- every staged fact's groups, whatever their time (core/fact_observations.sql): their earliest row is
-- before the cutoff whenever one of their rows is, so the filter below keeps the groups as of the cutoff
fact_rows as (
    select
        record_source,
        record_id,
        email_norm,
        phone_norm,
        device_id,
        first_seen as seen_ts
    from {{fact_observations}}
),

observations as (
    select * from customer_rows
    union all
    select * from fact_rows
),

final as (
    select
        record_source,
        record_id,
        email_norm,
        phone_norm,
        device_id,
        -- a customer record without any timestamp counts as known since the beginning
        case when bool_or(seen_ts is null) then null else min(seen_ts) end as first_seen
    from observations
    where seen_ts is null or seen_ts < $cutoff
    group by all
)

select * from final
