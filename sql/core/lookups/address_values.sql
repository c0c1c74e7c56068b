-- The addresses of staged customer records that the address lookup has not normalized yet.
-- Grain: one row per distinct raw address. Key: raw. Parameters: none. Filled in: lookup (core.address_lookup).
with customers as (
    select * from staging.customers
),

known as (
    select raw from {{lookup}}
),

final as (
    select distinct address as raw
    from customers
    where address is not null
        and address not in (select raw from known)
)

select * from final
