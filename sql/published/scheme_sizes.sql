-- Customers per segment of the schemes report.md lists besides RFM and clusters, on one published day, with
-- their Chinese labels (the run summary artifact and report.md show them).
-- Grain: one row per (scheme, segment): scheme 'tier' (value_tier), 'risk' (risk_tier), 'lifecycle'
-- (lifecycle_stage), 'rfm_cn' (rfm_cn_class: segment its English label, segment_zh the class) or 'rules' (each
-- of a customer's rule_segments, a customer in several counted in each).
-- Parameters: $as_of.
with segments as (
    select * from published.customer_segments
    where as_of = $as_of
),

-- the names and the Chinese labels of a customer's rules are listed in the same order
rules as (
    select
        unnest(string_split(rule_segments, ',')) as segment,
        unnest(string_split(rule_segments_zh, ',')) as segment_zh
    from segments
    where rule_segments is not null
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
    union all
    select
        'rfm_cn' as scheme,
        any_value(rfm_cn_class_en) as segment,
        rfm_cn_class as segment_zh,
        count(*) as customers
    from segments
    where rfm_cn_class is not null
    group by rfm_cn_class
    union all
    select
        'rules' as scheme,
        segment,
        any_value(segment_zh) as segment_zh,
        count(*) as customers
    from rules
    group by all
),

final as (
    select * from sizes
    order by scheme desc, customers desc, segment
)

select * from final
