-- One row per staged customer record, with normalized match keys and attributes.
-- Grain: one row per (source, source_id). Key: source, source_id. Parameters: none.
-- Lookups (raw -> norm, null: unusable or a placeholder) are written by the dedupe task:
-- email/phone/device and name/place/address/birth_date, all by tasks/dedupe/lookups.py.
-- The name is full_name, else family and given name (tasks.dedupe.lookups.NAME_SQL).
with customers as (
    select * from staging.customers
),

emails as (
    select * from core.email_lookup
),

phones as (
    select * from core.phone_lookup
),

devices as (
    select * from core.device_lookup
),

names as (
    select * from core.name_lookup
),

places as (
    select * from core.place_lookup
),

addresses as (
    select * from core.address_lookup
),

births as (
    select * from core.birth_date_lookup
),

final as (
    select
        customers.*,
        emails.norm as email_norm,
        phones.norm as phone_norm,
        devices.norm as device_norm,
        coalesce(customers.signup_ts, customers.updated_at) as seen_ts,
        names.norm as name_norm,
        names.key as name_key,
        births.norm as birth_date_norm,
        addresses.norm as address_norm,
        cities.norm as city_norm,
        provinces.norm as province_norm
    from customers
    left join emails on emails.raw = customers.email
    left join phones on phones.raw = customers.phone
    left join devices on devices.raw = customers.device_id
    left join names
        on names.raw = coalesce(customers.full_name, nullif(concat_ws(' ', customers.family_name, customers.given_name), ''))
    left join births on births.raw = customers.birth_date
    left join addresses on addresses.raw = customers.address
    left join places as cities on cities.raw = customers.city
    left join places as provinces on provinces.raw = customers.province
)

select * from final
