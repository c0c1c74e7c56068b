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

day_tags as (
    -- one scan of the day's segments gives each customer's tags as a list (nine scans, one per tag, in
    -- a union made publish's per-customer aggregate of them run out of memory at 10M customers);
    -- optional: a tag left out when its value is null
    select
        segments.as_of,
        segments.customer_id,
        [
            {'tag': 'value_tier', 'tag_zh': '付费等级', 'value': value_tier_zh, 'optional': false},
            {
                'tag': 'activity',
                'tag_zh': '活跃度',
                'value': case
                    when last_active_date is null or as_of - last_active_date >= thresholds.active_days then '不活跃'
                    when sessions_30d >= thresholds.high_sessions then '高活跃'
                    when sessions_30d >= thresholds.medium_sessions then '中活跃'
                    else '低活跃'
                end,
                'optional': false
            },
            {'tag': 'lifecycle_stage', 'tag_zh': '生命周期', 'value': lifecycle_stage_zh, 'optional': false},
            {'tag': 'favourite_game', 'tag_zh': '偏好游戏', 'value': favourite_game, 'optional': true},
            {'tag': 'rfm_segment', 'tag_zh': 'RFM分群', 'value': rfm_segment_zh, 'optional': false},
            {'tag': 'rfm_cn_class', 'tag_zh': 'RFM八类', 'value': rfm_cn_class, 'optional': false},
            {'tag': 'cluster', 'tag_zh': '聚类', 'value': cluster_name_zh, 'optional': false},
            {'tag': 'risk_tier', 'tag_zh': '流失风险', 'value': risk_tier_zh, 'optional': true},
            {
                'tag': 'marketing_consent',
                'tag_zh': '营销许可',
                'value': case when marketing_consent then '是' when not marketing_consent then '否' end,
                'optional': true
            }
        ] as tag_list
    from segments
    cross join thresholds
),

tags as (
    select as_of, customer_id, tag.tag, tag.tag_zh, tag.value
    from (select as_of, customer_id, unnest(tag_list) as tag from day_tags)
    where tag.value is not null or not tag.optional
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
