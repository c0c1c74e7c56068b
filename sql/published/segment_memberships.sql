-- Who is in which segment on one published day, one scheme at a time.
-- Grain: one row per (scheme, segment, customer_id). Parameters: $as_of.
-- {{segments}}: published.customer_segments, or a part of it (publish_changes: moved_customers.sql).
-- Schemes: rfm, rfm_cn, tier, lifecycle, rules (a customer may be in several), cluster.
-- A new scheme is one more branch here (and in SEGMENT_SCHEMES of tasks/shared/contracts.py).
with segments as (
    select * from {{segments}}
    where as_of = $as_of
),

rules as (
    select
        customer_id,
        unnest(string_split(rule_segments, ',')) as segment
    from segments
    where rule_segments is not null
),

memberships as (
    select 'rfm' as scheme, rfm_segment as segment, customer_id from segments where rfm_segment is not null
    union all
    select 'rfm_cn', rfm_cn_class, customer_id from segments where rfm_cn_class is not null
    union all
    select 'tier', value_tier, customer_id from segments where value_tier is not null
    union all
    select 'lifecycle', lifecycle_stage, customer_id from segments where lifecycle_stage is not null
    union all
    select 'rules', segment, customer_id from rules
    union all
    select 'cluster', cast(cluster_id as varchar), customer_id from segments where cluster_id is not null
),

final as (
    select distinct
        scheme,
        segment,
        customer_id
    from memberships
)

select * from final
