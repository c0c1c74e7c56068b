-- Which match keys each customer record was seen with, and since when.
-- Grain: one row per (record_source, record_id, email_norm, phone_norm, device_id).
-- Parameters: $cutoff (exclusive end of the as_of day): later observations are not used.
with customer_rows as (
    select
        source as record_source,
        source_id as record_id,
        email_norm,
        phone_norm,
        device_norm as device_id,
        seen_ts
    from core.customer_records
),

fact_rows as (
    select record_source, record_id, email_norm, phone_norm, device_norm as device_id, ts as seen_ts from core.transactions
    union all
    select record_source, record_id, email_norm, phone_norm, device_norm as device_id, ts as seen_ts from core.events
    union all
    select record_source, record_id, email_norm, phone_norm, device_norm as device_id, ts as seen_ts from core.feedback
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
