-- The contact keys each customer was seen with in any of its records (customer records and the
-- records of transactions, events and feedback), and which record each came from: the golden
-- record's device id, and its email and phone when no customer record has one.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
-- The dedupe task builds it into the temp table customer_contacts (see core/customers.sql).
-- How: each contact field is aggregated apart, over the rows that have it (a third to a half of the
-- observations each): one aggregate of the three arg_max over every row took 2.7 times as long at 1M.
-- Input: _golden_identity, core.identity_map or its rows of the customers to recompute (tasks/dedupe/golden.py).
with identity as (
    select * from _golden_identity
),

-- materialized: read by each field's aggregate
observations as materialized (
    select
        identity.customer_id,
        observations.record_source,
        observations.record_id,
        observations.email_norm,
        observations.phone_norm,
        observations.device_id
    from core.record_observations as observations
    join identity
        on identity.source = observations.record_source
        and identity.source_id = observations.record_id
),

emails as (
    select
        customer_id,
        max(email_norm) as email_norm,
        arg_max(record_source || ':' || record_id, struct_pack(email_norm, record_source, record_id)) as email_source
    from observations
    where email_norm is not null
    group by customer_id
),

phones as (
    select
        customer_id,
        max(phone_norm) as phone_norm,
        arg_max(record_source || ':' || record_id, struct_pack(phone_norm, record_source, record_id)) as phone_source
    from observations
    where phone_norm is not null
    group by customer_id
),

devices as (
    select
        customer_id,
        max(device_id) as device_id,
        arg_max(record_source || ':' || record_id, struct_pack(device_id, record_source, record_id)) as device_source
    from observations
    where device_id is not null
    group by customer_id
),

customers as (
    select distinct customer_id from observations
),

final as (
    select
        customers.customer_id,
        emails.email_norm,
        phones.phone_norm,
        devices.device_id,
        emails.email_source,
        phones.phone_source,
        devices.device_source
    from customers
    left join emails using (customer_id)
    left join phones using (customer_id)
    left join devices using (customer_id)
)

select * from final
