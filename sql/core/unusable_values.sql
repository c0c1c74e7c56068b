-- Values of the customer records that dedupe cannot use: given, but invalid, implausible or a placeholder
-- (a phone of 9 digits, a birth date after today or before 1900, `test@test.com`): left out of matching
-- and of the golden record. Counted so that a run says what it set aside (tasks.dedupe DedupeResult).
-- Grain: one row per field with at least one such record (field). Key: field. Parameters: none.
-- The lookups (raw -> norm, null: unusable) are tasks/dedupe/lookups.py's; core.customer_records joins them.
with records as (
    select
        email is not null and email_norm is null as email,
        phone is not null and phone_norm is null as phone,
        device_id is not null and device_norm is null as device_id,
        coalesce(full_name, nullif(concat_ws(' ', family_name, given_name), '')) is not null
        and name_norm is null as full_name,
        birth_date is not null and birth_date_norm is null as birth_date,
        address is not null and address_norm is null as address,
        city is not null and city_norm is null as city,
        province is not null and province_norm is null as province
    from core.customer_records
),

counts as (
    unpivot (
        select
            count(*) filter (where email) as email,
            count(*) filter (where phone) as phone,
            count(*) filter (where device_id) as device_id,
            count(*) filter (where full_name) as full_name,
            count(*) filter (where birth_date) as birth_date,
            count(*) filter (where address) as address,
            count(*) filter (where city) as city,
            count(*) filter (where province) as province
        from records
    )
    on columns(*)
    into name field value records
),

final as (
    select
        field,
        records
    from counts
    where records > 0
)

select * from final
