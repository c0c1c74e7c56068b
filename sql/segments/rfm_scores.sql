-- R, F and M scores (1–5, higher is better) and the named RFM segment of every customer with a purchase.
-- Grain: one row per scored customer_id. Key: customer_id.
-- Parameters: $method ('quintile' or 'fixed'), $r1..$r4, $f1..$f4, $m1..$m4 (fixed cut points, ascending).
-- quintile: score = 1 + floor(5 * (rank - 1) / n) with SQL rank(), so tied values share a score.
-- Recency ranks descending (the longest ago ranks first, scores lowest): recent buyers score high.
-- fixed: a value on a cut point takes the better score: R = 5 - (cut points below recency_days);
-- F (and M) = 1 + (cut points at or below frequency).
-- Customers without a purchase are not here; customer_segments gives them the fallback segment.
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
        recency_days,
        frequency,
        monetary,
        rank() over (order by recency_days desc) as r_rank,
        rank() over (order by frequency asc) as f_rank,
        rank() over (order by monetary asc) as m_rank,
        count(*) over () as n
    from features
),

scored as (
    select
        customer_id,
        case when $method = 'fixed' then
            5 - ((recency_days > $r1)::integer + (recency_days > $r2)::integer
                + (recency_days > $r3)::integer + (recency_days > $r4)::integer)
        else cast(1 + floor(5 * (r_rank - 1) / n) as integer) end as r_score,
        case when $method = 'fixed' then
            1 + (frequency >= $f1)::integer + (frequency >= $f2)::integer
            + (frequency >= $f3)::integer + (frequency >= $f4)::integer
        else cast(1 + floor(5 * (f_rank - 1) / n) as integer) end as f_score,
        case when $method = 'fixed' then
            1 + (monetary >= $m1)::integer + (monetary >= $m2)::integer
            + (monetary >= $m3)::integer + (monetary >= $m4)::integer
        else cast(1 + floor(5 * (m_rank - 1) / n) as integer) end as m_score
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
