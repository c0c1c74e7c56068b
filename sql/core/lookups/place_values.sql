-- The cities and provinces of staged customer records that the place lookup has not normalized yet.
-- Grain: one row per distinct raw place name. Key: raw. Parameters: none. Filled in: lookup (core.place_lookup).
with customers as (
    select * from staging.customers
),

known as (
    select raw from {{lookup}}
),

places as (
    select city as raw from customers
    union all
    select province as raw from customers
),

final as (
    select distinct raw
    from places
    where raw is not null
        and raw not in (select raw from known)
)

select * from final
