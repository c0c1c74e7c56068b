-- Customers per value tier, per lifecycle stage and per churn-risk tier of one published day, with their
-- Chinese labels (the run summary artifact shows them).
-- Grain: one row per (scheme, segment): scheme 'tier' (value_tier), 'risk' (risk_tier) or 'lifecycle'
-- (lifecycle_stage).
-- Parameters: $as_of.
with segments as (
    select * from published.customer_segments
    where as_of = $as_of
),

sizes as (
    select
        'tier' as scheme,
        value_tier as segment,
        any_value(value_tier_zh) as segment_zh,
        count(*) as customers
    from segments
    where value_tier is not null
    group by all
    union all
    select
        'risk' as scheme,
        risk_tier as segment,
        any_value(risk_tier_zh) as segment_zh,
        count(*) as customers
    from segments
    where risk_tier is not null
    group by all
    union all
    select
        'lifecycle' as scheme,
        lifecycle_stage as segment,
        any_value(lifecycle_stage_zh) as segment_zh,
        count(*) as customers
    from segments
    where lifecycle_stage is not null
    group by all
),

final as (
    select * from sizes
    order by scheme desc, customers desc, segment
)

select * from final
