-- What rule segments may test: features and the schemes computed before rules, one row per customer.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
with features as (
    select * from features.customer_features
),

scores as (
    select * from segments.rfm_scores
),

cn_classes as (
    select * from segments.rfm_cn_classes
),

value_lifecycle as (
    select * from segments.value_lifecycle
),

fallback as (
    select * from segments.rfm_fallback
),

final as (
    select
        features.*,
        scores.r_score,
        scores.f_score,
        scores.m_score,
        coalesce(scores.rfm_segment, fallback.name) as rfm_segment,
        coalesce(cn_classes.rfm_cn_class, fallback.label_zh) as rfm_cn_class,
        value_lifecycle.value_tier,
        value_lifecycle.lifecycle_stage
    from features
    left join scores using (customer_id)
    left join cn_classes using (customer_id)
    left join value_lifecycle using (customer_id)
    cross join fallback
)

select * from final
