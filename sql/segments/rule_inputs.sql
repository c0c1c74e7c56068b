-- What rule segments may test: features and the schemes computed before rules, one row per customer.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
-- {{shard}}: the customers kept (tasks/shared/shards.py; `true` for all).
-- The predictions (predict.customer_predictions) are those of the same as_of; expected_purchases and
-- predicted_value cover predict.horizon_days.
with features as (
    select * from features.customer_features
    where {{shard}}
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

predictions as (
    select * from predict.customer_predictions
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
        value_lifecycle.lifecycle_stage,
        predictions.churn_risk,
        predictions.risk_tier,
        predictions.p_alive,
        predictions.expected_purchases,
        predictions.predicted_value
    from features
    left join scores using (customer_id)
    left join cn_classes using (customer_id)
    left join value_lifecycle using (customer_id)
    left join predictions
        on predictions.customer_id = features.customer_id
        and predictions.as_of = features.as_of
    cross join fallback
)

select * from final
