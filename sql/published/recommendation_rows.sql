-- What recommendations.csv holds: every customer's recommended items of the day, best first.
-- Grain: one row per (customer_id, rank). Key: customer_id, rank. Parameters: none.
-- source: similar (co-occurrence with what they played or bought), popular_in_segment, popular.
with recommendations as (
    select * from act.recommendations
),

final as (
    select
        customer_id,
        rank,
        item,
        score,
        source
    from recommendations
    order by customer_id, rank
)

select * from final
