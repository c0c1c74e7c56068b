-- One row per staged customer record as of the cutoff, with normalized match keys and attributes.
-- Grain: one row per (source, source_id). Key: source, source_id.
-- Parameters: $cutoff (exclusive end of the as_of day): each record's version valid then.
-- {{customers}}: the staged versions read, staging.customers (every record), or the versions of the
-- records a run brings up to date in place (tasks/dedupe/records.py).
-- staging.customers keeps every version of a record, valid from valid_from until valid_to (the next
-- version's valid_from, null for the current one; tasks/extract/duplicates.py). The version valid at the
-- cutoff is the one that began last before it (valid_from < $cutoff <= valid_to); a record whose every
-- version began after the cutoff shows its first version (a record is known from its signup_ts: see
-- seen_ts and core/record_observations). A version left with an empty interval (valid_to = valid_from:
-- another began at the same instant) is never valid.
-- Lookups (raw -> norm, null: unusable or a placeholder) are written by the dedupe task:
-- email/phone/device and name/place/address/birth_date, all by tasks/dedupe/lookups.py.
-- The name is full_name, else family and given name, as core/lookups/name_values.sql reads it for the name
-- lookup (also core/unusable_values.sql and ops/erase/person_values.sql: the four must read it alike).

-- the versions not ended before the cutoff, earliest first: the one valid at the cutoff, else the
-- record's first (ranked by row id alone: a rank of whole rows took twice as long at 100k records)
with valid_versions as (
    select rowid as version
    from {{customers}}
    where valid_to is null
        or (valid_to >= $cutoff and valid_to > coalesce(valid_from, '-infinity'::timestamptz))
    qualify row_number() over (
        partition by source, coalesce(source_id, _file || ':' || _row)
        order by valid_from nulls first, _file, _row
    ) = 1
),

customers as (
    select * exclude (valid_from, valid_to)
    from {{customers}}
    where rowid in (select version from valid_versions)
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
