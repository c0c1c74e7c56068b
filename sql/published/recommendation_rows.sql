-- What recommendations.csv holds: every customer's recommended items of the day, best first.
-- Grain: one row per (customer_id, rank). Key: customer_id, rank. Parameters: none.
-- source: similar (co-occurrence with what they played or bought), popular_in_segment, popular. rank orders
-- each list (similar items first, then fill-ins); score means what its source says (similar: weighed plays
-- and purchases times similarities, which shrink with the plays' age; popular*: the item's share of
-- customers, 0 to 1).
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
