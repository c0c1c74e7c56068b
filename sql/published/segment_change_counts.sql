-- Customers who entered and exited each scheme on one published day (the summary and the report show them).
-- Grain: one row per (scheme, change) with any customer. Parameters: $as_of.
with changes as (
    select * from published.segment_changes
    where as_of = $as_of
),

final as (
    select
        scheme,
        change,
        count(*) as customers
    from changes
    group by all
    order by scheme, change
)

select * from final
