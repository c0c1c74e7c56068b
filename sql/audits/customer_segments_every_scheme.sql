-- Audit: a customer missing a segment of some scheme (both RFM schemes, tier, lifecycle, cluster).
-- Grain: one row per offending customer. Parameters: none.
with customer_segments as (
    select * from segments.customer_segments
),

final as (
    select *
    from customer_segments
    where rfm_segment is null
        or rfm_segment_zh is null
        or rfm_cn_class is null
        or rfm_cn_class_en is null
        or value_tier is null
        or lifecycle_stage is null
        or cluster_id is null
        or cluster_name is null
        or cluster_name_zh is null
)

select * from final
