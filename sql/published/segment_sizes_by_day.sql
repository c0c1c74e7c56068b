-- The sizes of the segments of every scheme on the published days whose stored sizes are missing or stale
-- (published.segment_size_days, tasks/publish/sizes.py), with their Chinese and English labels.
-- Grain: one row per (as_of, scheme, segment). Key: as_of, scheme, segment. Parameters: $model (the hash
-- of this file's text: stored sizes of another version of it are stale). Reads _size_stale_days (as_of,
-- day_rows: the day's published rows now).
-- Schemes and segment keys as in segment_memberships.sql (rfm, rfm_cn, tier, lifecycle, rules, cluster),
-- plus risk (risk_tier, customers a churn model scored). no_purchase marks the segment of the customers
-- without a purchase (No Purchase, 未购买客户, tier none, lifecycle never_purchased): the report keeps it
-- apart from the purchasers' segments. Rule segments overlap: a customer counts in each of theirs.
with segments as (
    select * from published.customer_segments
    semi join _size_stale_days using (as_of)
),

stale as (
    select * from _size_stale_days
),

rules as (
    -- rule_segments and rule_segments_zh list the same segments in the same order
    select
        as_of,
        unnest(string_split(rule_segments, ',')) as segment,
        unnest(string_split(coalesce(rule_segments_zh, rule_segments), ',')) as label_zh
    from segments
    where rule_segments is not null
),

memberships as (
    select
        as_of,
        'rfm' as scheme,
        rfm_segment as segment,
        rfm_segment_zh as label_zh,
        rfm_segment as label_en,
        frequency is null as no_purchase
    from segments
    where rfm_segment is not null
    union all
    select as_of, 'rfm_cn', rfm_cn_class, rfm_cn_class, rfm_cn_class_en, frequency is null
    from segments
    where rfm_cn_class is not null
    union all
    select as_of, 'tier', value_tier, value_tier_zh, value_tier, value_tier = 'none'
    from segments
    where value_tier is not null
    union all
    select
        as_of,
        'lifecycle',
        lifecycle_stage,
        lifecycle_stage_zh,
        lifecycle_stage,
        lifecycle_stage = 'never_purchased'
    from segments
    where lifecycle_stage is not null
    union all
    select as_of, 'rules', segment, label_zh, segment, false
    from rules
    union all
    select as_of, 'cluster', cast(cluster_id as varchar), cluster_name_zh, cluster_name, false
    from segments
    where cluster_id is not null
    union all
    select as_of, 'risk', risk_tier, risk_tier_zh, risk_tier, false
    from segments
    where risk_tier is not null
),

sizes as (
    select
        as_of,
        scheme,
        segment,
        any_value(label_zh) as label_zh,
        any_value(label_en) as label_en,
        bool_or(no_purchase) as no_purchase,
        count(*) as customers
    from memberships
    group by all
),

final as (
    select
        sizes.*,
        stale.day_rows,
        $model as model
    from sizes
    join stale using (as_of)
)

select * from final
