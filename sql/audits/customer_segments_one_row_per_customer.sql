-- Audit: a customer appears more than once in the segments about to be published.
-- Grain: one row per offending customer_id. Parameters: none.
with segments as (
    select * from segments.customer_segments
),

final as (
    select
        customer_id,
        count(*) as rows
    from segments
    group by customer_id
    having count(*) > 1
)

select * from final
