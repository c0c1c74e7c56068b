-- View: segments.customer_tags, the customer tags (客户标签) for the customer 360 view, a long table
-- over the day's segments.customer_segments and rule memberships. A view, not a table: publish copies the
-- day's tags (published.customer_tags), so they are computed once, there, and never written twice.
-- Grain: one row per customer_id, tag and value (a customer has one row per rule segment it is in).
-- Key: customer_id, tag, value. Parameters: none; the activity tag's thresholds are the one row of
-- segments.tag_thresholds (active_days, medium_sessions, high_sessions: tasks/segment/tags.py writes them;
-- the cluster names' words are checked against the same numbers, so a tag never contradicts a customer's
-- cluster name).
-- 活跃度 (activity): 不活跃 without a purchase, session or event in the last active_days days; else by game
-- sessions in the last 30 days: high_sessions+ 高活跃, medium_sessions+ 中活跃, fewer 低活跃.
with segments as (
    select * from segments.customer_segments
),

memberships as (
    select * from segments.rule_memberships
),

thresholds as (
    select * from segments.tag_thresholds
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
            when last_active_date is null or as_of - last_active_date >= thresholds.active_days then '不活跃'
            when sessions_30d >= thresholds.high_sessions then '高活跃'
            when sessions_30d >= thresholds.medium_sessions then '中活跃'
            else '低活跃'
        end
    from segments
    cross join thresholds
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
