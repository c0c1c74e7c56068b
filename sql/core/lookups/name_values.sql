-- The names of staged customer records that the name lookup has not normalized yet.
-- Grain: one row per distinct raw name. Key: raw. Parameters: none. Filled in: lookup (core.name_lookup).
-- A record's name is full_name, else family and given name (the normalizer drops the space between Han
-- characters, so 张 + 三 reads 张三), as core/customer_records.sql, core/unusable_values.sql and
-- ops/erase/person_values.sql read it.
with customers as (
    select * from staging.customers
),

known as (
    select raw from {{lookup}}
),

named as (
    select coalesce(full_name, nullif(concat_ws(' ', family_name, given_name), '')) as raw
    from customers
),

final as (
    select distinct raw
    from named
    where raw is not null
        and raw not in (select raw from known)
)

select * from final
