-- Which customers source each source's customer_ref points into, from the config (core.facts reads it).
-- Grain: one row per configured source, in config order. Key: source.
-- Parameters: $sources (the source names), $customer_sources (each one's customers source, null for none).
with configured as (
    select
        unnest($sources) as source,
        unnest($customer_sources) as customer_source
),

final as (
    select
        cast(source as varchar) as source,
        cast(customer_source as varchar) as customer_source
    from configured
)

select * from final
