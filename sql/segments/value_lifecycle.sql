-- Value tier and lifecycle stage of every customer as of one day.
-- Grain: one row per customer_id. Key: customer_id.
-- Parameters: $as_of, $tier_high_share, $tier_medium_share, $new_days, $active_days, $sleeping_days.
-- Value tier, among customers with a purchase, by monetary: the top $tier_high_share are high (高价值),
-- the next $tier_medium_share medium (中价值), the rest low (低价值); ties take the better tier (rank()).
-- Lifecycle, first match wins: never purchased (未付费); new (新客户) when the first purchase falls within the
-- last $new_days days (as_of and the days before it, the features' windows: (as_of - N days, as_of]); active
-- (活跃) when the last activity (purchase, session or event) falls within the last $active_days days (as the
-- activity tag, segments/customer_tags.sql); sleeping (沉睡) within $sleeping_days; churned (流失) before.
with features as (
    select * from features.customer_features
),

ranked as (
    select
        customer_id,
        frequency,
        first_purchase_date,
        last_active_date,
        case when frequency is not null then
            rank() over (partition by frequency is not null order by monetary desc)
        end as value_rank,
        count(frequency) over () as purchasers
    from features
),

-- tier and stage in one pass over the ranked rows (no join of the population with itself)
classified as (
    select
        customer_id,
        case
            when value_rank is null then 'none'
            when value_rank <= ceil($tier_high_share * purchasers) then 'high'
            when value_rank <= ceil(($tier_high_share + $tier_medium_share) * purchasers) then 'medium'
            else 'low'
        end as value_tier,
        case
            when frequency is null then 'never_purchased'
            when $as_of::date - first_purchase_date < $new_days then 'new'
            when $as_of::date - last_active_date < $active_days then 'active'
            when $as_of::date - last_active_date < $sleeping_days then 'sleeping'
            else 'churned'
        end as lifecycle_stage
    from ranked
),

final as (
    select
        customer_id,
        value_tier,
        case value_tier
            when 'high' then '高价值' when 'medium' then '中价值' when 'low' then '低价值' else '未消费'
        end as value_tier_zh,
        lifecycle_stage,
        case lifecycle_stage
            when 'never_purchased' then '未付费'
            when 'new' then '新客户'
            when 'active' then '活跃'
            when 'sleeping' then '沉睡'
            else '流失'
        end as lifecycle_stage_zh
    from classified
)

select * from final
