-- Who is in which segment of the day being computed (segments.customer_segments), one scheme at a time: the
-- view act.segment_memberships (tasks/act: read for a few segments, it costs less than a table written daily).
-- Grain: one row per (scheme, segment, customer_id). Parameters: none.
-- The schemes of published/segment_memberships plus `risk` (the churn risk tier, when predicted); the
-- act stage's lookalike audiences are added by tasks/act, after they are scored. Each branch has one
-- row per customer at most (rule_segments names a segment once), so no distinct is needed.
with segments as (
    select * from segments.customer_segments
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
    union all
    select 'risk', risk_tier, customer_id from segments where risk_tier is not null
),

final as (
    select
        scheme,
        segment,
        customer_id
    from memberships
)

select * from final
