-- The published rows of one day (people.sql reads them as its segments).
-- Grain: one row per customer_id. Key: customer_id. Parameters: $as_of.
with segments as (
    select * from published.customer_segments
    where as_of = $as_of
),

final as (
    select * from segments
)

select * from final
