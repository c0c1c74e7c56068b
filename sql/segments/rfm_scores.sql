-- R, F and M scores (1–5, higher is better) and the named RFM segment of every customer with a purchase.
-- Grain: one row per scored customer_id. Key: customer_id. Parameters: none.
-- Rule: score = 1 + floor(5 * (rank - 1) / n) with SQL rank(), so tied values share a score.
-- Recency ranks descending (the longest ago ranks first, scores lowest): recent buyers score high.
with features as (
    select * from features.customer_features
    where frequency is not null
),

rules as (
    select * from segments.rfm_segment_rules
),

ranked as (
    select
        customer_id,
        rank() over (order by recency_days desc) as r_rank,
        rank() over (order by frequency asc) as f_rank,
        rank() over (order by monetary asc) as m_rank,
        count(*) over () as n
    from features
),

scored as (
    select
        customer_id,
        cast(1 + floor(5 * (r_rank - 1) / n) as integer) as r_score,
        cast(1 + floor(5 * (f_rank - 1) / n) as integer) as f_score,
        cast(1 + floor(5 * (m_rank - 1) / n) as integer) as m_score
    from ranked
),

final as (
    select
        scored.customer_id,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        (scored.f_score + scored.m_score + 1) // 2 as fm_score,
        rules.segment as rfm_segment,
        rules.label_zh as rfm_segment_zh
    from scored
    join rules
        on scored.r_score between rules.r_min and rules.r_max
        and (scored.f_score + scored.m_score + 1) // 2 between rules.fm_min and rules.fm_max
)

select * from final
