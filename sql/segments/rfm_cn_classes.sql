-- The Chinese 8-class RFM scheme (重要价值客户 … 一般挽留客户) of every customer with a purchase.
-- Grain: one row per scored customer_id. Key: customer_id. Parameters: $threshold (a score >= it is high).
-- 重要/一般 follows M; 价值/保持/发展/挽留 follows R and F. A recent buyer has a high R.
with scores as (
    select * from segments.rfm_scores
),

classes as (
    select * from segments.rfm_cn_class_rules
),

final as (
    select
        scores.customer_id,
        classes.name as rfm_cn_class_en,
        classes.label_zh as rfm_cn_class
    from scores
    join classes
        on classes.r_high = (scores.r_score >= $threshold)
        and classes.f_high = (scores.f_score >= $threshold)
        and classes.m_high = (scores.m_score >= $threshold)
)

select * from final
