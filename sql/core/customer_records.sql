-- One row per staged customer record, with normalized match keys.
-- Grain: one row per (source, source_id). Key: source, source_id. Parameters: none.
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

final as (
    select
        customers.*,
        emails.norm as email_norm,
        phones.norm as phone_norm,
        devices.norm as device_norm,
        coalesce(customers.signup_ts, customers.updated_at) as seen_ts
    from customers
    left join emails on emails.raw = customers.email
    left join phones on phones.raw = customers.phone
    left join devices on devices.raw = customers.device_id
)

select * from final
