-- Customer tags (客户标签) for the customer 360 view: a long table built from features and segments.
-- Grain: one row per customer_id, tag and value (a customer has one row per rule segment it is in).
-- Key: customer_id, tag, value.
-- Parameters: $active_days, $medium_sessions, $high_sessions (tasks/segment/naming.py: the cluster names'
-- words are checked against the same thresholds, so a tag never contradicts a customer's cluster name).
-- 活跃度 (activity): 不活跃 without a purchase, session or event in the last $active_days days; else by game
-- sessions in the last 30 days: $high_sessions+ 高活跃, $medium_sessions+ 中活跃, fewer 低活跃.
with segments as (
    select * from segments.customer_segments
),

memberships as (
    select * from segments.rule_memberships
),

tags as (
    -- each customer's as_of comes along with its tags: no join of the tags back to their customers
    select as_of, customer_id, 'value_tier' as tag, '付费等级' as tag_zh, value_tier_zh as value from segments
    union all
    select
        as_of,
        customer_id,
        'activity',
        '活跃度',
        case
            when last_active_date is null or as_of - last_active_date >= $active_days then '不活跃'
            when sessions_30d >= $high_sessions then '高活跃'
            when sessions_30d >= $medium_sessions then '中活跃'
            else '低活跃'
        end
    from segments
    union all
    select as_of, customer_id, 'lifecycle_stage', '生命周期', lifecycle_stage_zh from segments
    union all
    select as_of, customer_id, 'favourite_game', '偏好游戏', favourite_game from segments
    where favourite_game is not null
    union all
    select as_of, customer_id, 'rfm_segment', 'RFM分群', rfm_segment_zh from segments
    union all
    select as_of, customer_id, 'rfm_cn_class', 'RFM八类', rfm_cn_class from segments
    union all
    select as_of, customer_id, 'cluster', '聚类', cluster_name_zh from segments
    union all
    select as_of, customer_id, 'risk_tier', '流失风险', risk_tier_zh from segments
    where risk_tier_zh is not null
    union all
    select as_of, customer_id, 'marketing_consent', '营销许可', case when marketing_consent then '是' else '否' end
    from segments
    where marketing_consent is not null
    union all
    -- a rule segment is tagged for a customer of the day (the join gives its as_of)
    select segments.as_of, memberships.customer_id, 'rule_segment', '规则分群', memberships.label_zh
    from memberships
    join segments using (customer_id)
),

final as (
    select
        as_of,
        customer_id,
        tag,
        tag_zh,
        value
    from tags
)

select * from final
