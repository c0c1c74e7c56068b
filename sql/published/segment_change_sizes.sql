-- Customers who entered and exited each segment on one published day, against the previous published day
-- (the report's change bars; segment_change_counts.sql sums them per scheme).
-- Grain: one row per (scheme, segment, change) with any customer. Key: scheme, segment, change.
-- Parameters: $as_of.
with changes as (
    select * from published.segment_changes
    where as_of = $as_of
),

final as (
    select
        scheme,
        segment,
        change,
        count(*) as customers,
        any_value(previous_as_of) as previous_as_of
    from changes
    group by all
    order by scheme, segment, change
)

select * from final
