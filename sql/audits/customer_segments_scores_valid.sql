-- Audit: a customer with a purchase but no valid scores or segment, or scores without a purchase.
-- Grain: one row per offending customer. Parameters: none.
-- Customers without a purchase must be in the fallback segment (segments.rfm_fallback).
with segments as (
    select * from segments.customer_segments
),

fallback as (
    select * from segments.rfm_fallback
),

final as (
    select * from segments
    where (frequency is not null and (
            coalesce(r_score not between 1 and 5, true)
            or coalesce(f_score not between 1 and 5, true)
            or coalesce(m_score not between 1 and 5, true)
            or rfm_segment is null
            or cluster_id is null
        ))
        or (frequency is null and (
            r_score is not null
            or rfm_segment is distinct from (select name from fallback)
        ))
)

select * from final
