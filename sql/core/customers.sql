-- The golden record: one row per customer as of the cutoff.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
-- Inputs: temp tables customer_golden (core/customer_golden.sql: per-field survivorship among the
-- customer's records) and customer_contacts (core/customer_contacts.sql: contact keys seen in any
-- record), which the dedupe task builds first (tasks.dedupe.golden.build_customers): three statements,
-- each of which DuckDB can spill to disk, instead of one whose joins of aggregates could not.
-- Contact keys fall back to what transactions, events and feedback were seen with.
-- field_sources says which record ('source:source_id') each chosen value came from.
-- Input: _golden_identity, core.identity_map or its rows of the customers to recompute (tasks/dedupe/golden.py).
with identity as (
    select * from _golden_identity
),

golden as (
    select * from customer_golden
),

observed as (
    select * from customer_contacts
),

customers as (
    select
        customer_id,
        count(*) as records,
        -- list_sort(list_distinct()) of the plain list: ten times faster at 1M than list(distinct ... order by)
        list_sort(list_distinct(list(source))) as sources,
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
        golden.address,
        golden.postcode,
        golden.country,
        golden.signup_ts,
        coalesce(golden.marketing_consent, false) as marketing_consent,
        customers.first_seen,
        customers.records,
        customers.sources,
        struct_pack(
            full_name := golden.full_name_source,
            gender := golden.gender_source,
            birth_date := golden.birth_date_source,
            email := coalesce(golden.email_source, observed.email_source),
            phone := coalesce(golden.phone_source, observed.phone_source),
            device_id := observed.device_source,
            city := golden.city_source,
            province := golden.province_source,
            address := golden.address_source,
            postcode := golden.postcode_source,
            country := golden.country_source,
            signup_ts := golden.signup_ts_source,
            marketing_consent := golden.marketing_consent_source
        ) as field_sources
    from customers
    left join golden using (customer_id)
    left join observed using (customer_id)
)

select * from final
