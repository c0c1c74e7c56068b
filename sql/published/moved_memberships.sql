-- Whose memberships on $as_of moved against those kept aside before the day was computed again
-- (published.republished_day, tasks/publish/republish.py).
-- Grain: one row. Parameters: $as_of.
-- customers: published only once, or in both with any membership column moved. Filled in: {{moved}} (per
-- membership column, the customers in both whose value moved, as a column of that name), {{any_moved}} (the
-- same comparisons joined with or).
with before as (
    select * from published.republished_day
    where as_of = $as_of
),

after as (
    select * from published.customer_segments
    where as_of = $as_of
),

final as (
    select
        count(*) filter (
            where before.customer_id is null or after.customer_id is null or {{any_moved}}
        ) as customers,
        {{moved}}
    from before
    full join after on after.customer_id = before.customer_id
)

select * from final
