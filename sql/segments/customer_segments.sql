-- Everything published about a customer for one as_of: features, RFM scores, segment, cluster.
-- Grain: one row per customer_id known as of the day. Key: customer_id. Parameters: none.
-- {{shard}}: the customers kept (tasks/shared/shards.py; `true` for all). Identifiers {{clusters}} and
-- {{memberships}}: segments.clusters and segments.rule_memberships, or a shard's own (tasks/segment/shards.py).
-- Every customer has one segment of each scheme: customers without a purchase (no R, F, M) get the
-- fallback segment of segments.rfm_fallback in both RFM schemes.
-- Predictions (predict.customer_predictions of the same as_of) are null for customers the models do not
-- apply to. Template filled by tasks/segment: horizon is predict.horizon_days, in the names of the
-- expected purchases and value columns (expected_purchases_90d, predicted_value_90d).
with features as (
    select * from features.customer_features
    where {{shard}}
),

scores as (
    select * from segments.rfm_scores
),

clusters as (
    select * from {{clusters}}
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

memberships as (
    select * from {{memberships}}
),

rule_order as (
    -- the day's rule segments in listing order: highest priority first, then by name (a shard may list
    -- fewer: the positions only order each customer's list, which is the same)
    select
        priority,
        segment,
        label_zh,
        row_number() over (order by priority desc, segment, label_zh) as position
    from (select distinct priority, segment, label_zh from memberships)
),

customer_rules as (
    -- each customer's rule segments as their sorted positions: a list of integers aggregates several
    -- times faster than one of names (at 1M customers ~0.2 s of CPU against ~1 s)
    select
        memberships.customer_id,
        list_sort(list(rule_order.position)) as positions
    from memberships
    join rule_order using (priority, segment, label_zh)
    group by memberships.customer_id
),

rule_lists as (
    -- the names of each set of rule segments some customer is in, comma separated in listing order:
    -- a few sets, each named once
    select
        lists.positions,
        string_agg(rule_order.segment, ',' order by rule_order.position) as rule_segments,
        string_agg(rule_order.label_zh, ',' order by rule_order.position) as rule_segments_zh
    from (select distinct positions from customer_rules) as lists
    cross join unnest(lists.positions) as listed(position)
    join rule_order using (position)
    group by lists.positions
),

rules as (
    select
        customer_rules.customer_id,
        rule_lists.rule_segments,
        rule_lists.rule_segments_zh
    from customer_rules
    join rule_lists using (positions)
),

final as (
    select
        features.as_of,
        features.customer_id,
        features.recency_days,
        features.frequency,
        features.monetary,
        scores.r_score,
        scores.f_score,
        scores.m_score,
        coalesce(scores.rfm_segment, fallback.name) as rfm_segment,
        coalesce(scores.rfm_segment_zh, fallback.label_zh) as rfm_segment_zh,
        coalesce(cn_classes.rfm_cn_class, fallback.label_zh) as rfm_cn_class,
        coalesce(cn_classes.rfm_cn_class_en, fallback.name) as rfm_cn_class_en,
        value_lifecycle.value_tier,
        value_lifecycle.value_tier_zh,
        value_lifecycle.lifecycle_stage,
        value_lifecycle.lifecycle_stage_zh,
        rules.rule_segments,
        rules.rule_segments_zh,
        clusters.cluster_id,
        clusters.cluster_name,
        clusters.cluster_name_zh,
        predictions.churn_risk,
        predictions.risk_tier,
        predictions.risk_tier_zh,
        predictions.p_alive,
        predictions.expected_purchases as expected_purchases_{{horizon}}d,
        predictions.predicted_value as predicted_value_{{horizon}}d,
        features.first_purchase_date,
        features.last_purchase_date,
        features.payments_30d,
        features.payments_90d,
        features.payments_180d,
        features.sessions_30d,
        features.sessions_90d,
        features.sessions_180d,
        features.favourite_game,
        features.last_active_date,
        features.marketing_consent
    from features
    left join scores using (customer_id)
    left join clusters using (customer_id)
    left join cn_classes using (customer_id)
    left join value_lifecycle using (customer_id)
    left join rules using (customer_id)
    left join predictions
        on predictions.customer_id = features.customer_id
        and predictions.as_of = features.as_of
    cross join fallback
)

select * from final
