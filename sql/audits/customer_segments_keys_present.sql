-- Audit: rows without a customer id or with another as_of than the one being published.
-- Grain: one row per offending row of segments.customer_segments. Parameters: $as_of.
with segments as (
    select * from segments.customer_segments
),

final as (
    select * from segments
    where customer_id is null
        or as_of is distinct from $as_of
)

select * from final
