-- The golden record: one row per customer as of the cutoff.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none (identity_map is already as of the cutoff).
-- Survivorship: each field comes from the most recently updated customer record that has it
-- (records without any timestamp rank last; ties by source and id, descending); contact keys
-- fall back to what transactions, events and feedback were seen with.
with identity as (
    select * from core.identity_map
),

records as (
    select
        identity.customer_id,
        customer_records.*,
        -- survivorship order: most recently updated first (undated last), then source and id descending
        struct_pack(
            recency := coalesce(customer_records.updated_at, customer_records.signup_ts, '-infinity'::timestamptz),
            source := customer_records.source,
            source_id := customer_records.source_id
        ) as survivor_key
    from core.customer_records as customer_records
    join identity
        on identity.source = customer_records.source
        and identity.source_id = customer_records.source_id
),

observed as (
    select
        identity.customer_id,
        max(observations.email_norm) as email_norm,
        max(observations.phone_norm) as phone_norm,
        max(observations.device_id) as device_id
    from core.record_observations as observations
    join identity
        on identity.source = observations.record_source
        and identity.source_id = observations.record_id
    group by identity.customer_id
),

golden as (
    select
        customer_id,
        arg_max(full_name, survivor_key) filter (where full_name is not null) as full_name,
        arg_max(gender, survivor_key) filter (where gender is not null) as gender,
        arg_max(birth_date, survivor_key) filter (where birth_date is not null) as birth_date,
        arg_max(email_norm, survivor_key) filter (where email_norm is not null) as email,
        arg_max(phone_norm, survivor_key) filter (where phone_norm is not null) as phone,
        arg_max(city, survivor_key) filter (where city is not null) as city,
        arg_max(province, survivor_key) filter (where province is not null) as province,
        min(signup_ts) as signup_ts,
        arg_max(marketing_consent, survivor_key) filter (where marketing_consent is not null) as marketing_consent
    from records
    group by customer_id
),

customers as (
    select
        customer_id,
        count(*) as records,
        list(distinct source order by source) as sources,
        -- a record without a timestamp is known since the beginning, and so is its customer
        case when bool_or(first_seen is null) then null else min(first_seen) end as first_seen
    from identity
    group by customer_id
),

final as (
    select
        customers.customer_id,
        golden.full_name,
        golden.gender,
        golden.birth_date,
        coalesce(golden.email, observed.email_norm) as email,
        coalesce(golden.phone, observed.phone_norm) as phone,
        observed.device_id,
        golden.city,
        golden.province,
        golden.signup_ts,
        coalesce(golden.marketing_consent, false) as marketing_consent,
        customers.first_seen,
        customers.records,
        customers.sources
    from customers
    left join golden using (customer_id)
    left join observed using (customer_id)
)

select * from final
