-- Per-field survivorship among each customer's customer records: the golden values and the record
-- each came from. Grain: one row per customer_id with a customer record. Key: customer_id.
-- Parameters: $source_priority (list of source names, most trusted first; identity_map is already as
-- of the cutoff). The dedupe task builds it into the temp table customer_golden (see core/customers.sql).
-- Survivorship, per field, among the customer records that have it: the record of the first source
-- in $source_priority (unlisted sources rank last), then the most recently updated (records without
-- any timestamp rank last), then the value most records of the customer share, then source and id,
-- descending. Birth dates are the normalized ones (placeholder dates such as 1970-01-01 never survive).
-- Most customers have one customer record: their values are taken as they are (golden_single), and
-- only customers with several records go through the ranking (golden_multi).
-- Input: _golden_identity, core.identity_map or its rows of the customers to recompute (tasks/dedupe/golden.py).
with identity as (
    select * from _golden_identity
),

records as (
    select
        identity.customer_id,
        customer_records.*,
        customer_records.source || ':' || customer_records.source_id as record_key,
        -coalesce(list_position($source_priority::varchar[], customer_records.source), 1000000) as priority,
        coalesce(customer_records.updated_at, customer_records.signup_ts, '-infinity'::timestamptz) as recency,
        count(*) over (partition by identity.customer_id) as customer_records
    from core.customer_records as customer_records
    join identity
        on identity.source = customer_records.source
        and identity.source_id = customer_records.source_id
),

-- survivorship order per field: source priority, recency, frequency of the value, source and id
ranked as (
    select
        *,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, full_name), source, source_id)
            as full_name_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, gender), source, source_id)
            as gender_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, birth_date_norm), source, source_id)
            as birth_date_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, email_norm), source, source_id)
            as email_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, phone_norm), source, source_id)
            as phone_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, city), source, source_id)
            as city_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, province), source, source_id)
            as province_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, address), source, source_id)
            as address_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, postcode), source, source_id)
            as postcode_key,
        struct_pack(priority, recency, frequency := count(*) over (partition by customer_id, country), source, source_id)
            as country_key,
        struct_pack(
            priority, recency, frequency := count(*) over (partition by customer_id, marketing_consent), source, source_id
        ) as consent_key
    from records
    where customer_records > 1
),

golden_multi as (
    select
        customer_id,
        arg_max(full_name, full_name_key) filter (where full_name is not null) as full_name,
        arg_max(gender, gender_key) filter (where gender is not null) as gender,
        arg_max(birth_date_norm, birth_date_key) filter (where birth_date_norm is not null) as birth_date,
        arg_max(email_norm, email_key) filter (where email_norm is not null) as email,
        arg_max(phone_norm, phone_key) filter (where phone_norm is not null) as phone,
        arg_max(city, city_key) filter (where city is not null) as city,
        arg_max(province, province_key) filter (where province is not null) as province,
        arg_max(address, address_key) filter (where address is not null) as address,
        arg_max(postcode, postcode_key) filter (where postcode is not null) as postcode,
        arg_max(country, country_key) filter (where country is not null) as country,
        min(signup_ts) as signup_ts,
        arg_max(marketing_consent, consent_key) filter (where marketing_consent is not null) as marketing_consent,
        arg_max(record_key, full_name_key) filter (where full_name is not null) as full_name_source,
        arg_max(record_key, gender_key) filter (where gender is not null) as gender_source,
        arg_max(record_key, birth_date_key) filter (where birth_date_norm is not null) as birth_date_source,
        arg_max(record_key, email_key) filter (where email_norm is not null) as email_source,
        arg_max(record_key, phone_key) filter (where phone_norm is not null) as phone_source,
        arg_max(record_key, city_key) filter (where city is not null) as city_source,
        arg_max(record_key, province_key) filter (where province is not null) as province_source,
        arg_max(record_key, address_key) filter (where address is not null) as address_source,
        arg_max(record_key, postcode_key) filter (where postcode is not null) as postcode_source,
        arg_max(record_key, country_key) filter (where country is not null) as country_source,
        arg_min(record_key, struct_pack(signup_ts, source, source_id)) filter (where signup_ts is not null)
            as signup_ts_source,
        arg_max(record_key, consent_key) filter (where marketing_consent is not null) as marketing_consent_source
    from ranked
    group by customer_id
),

golden_single as (
    select
        customer_id,
        full_name,
        gender,
        birth_date_norm as birth_date,
        email_norm as email,
        phone_norm as phone,
        city,
        province,
        address,
        postcode,
        country,
        signup_ts,
        marketing_consent,
        case when full_name is not null then record_key end as full_name_source,
        case when gender is not null then record_key end as gender_source,
        case when birth_date_norm is not null then record_key end as birth_date_source,
        case when email_norm is not null then record_key end as email_source,
        case when phone_norm is not null then record_key end as phone_source,
        case when city is not null then record_key end as city_source,
        case when province is not null then record_key end as province_source,
        case when address is not null then record_key end as address_source,
        case when postcode is not null then record_key end as postcode_source,
        case when country is not null then record_key end as country_source,
        case when signup_ts is not null then record_key end as signup_ts_source,
        case when marketing_consent is not null then record_key end as marketing_consent_source
    from records
    where customer_records = 1
),

final as (
    select * from golden_multi
    union all by name
    select * from golden_single
)

select * from final
