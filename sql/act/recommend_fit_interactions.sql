-- The interactions a time-split evaluation fits on: those of the items customers had by the fit day.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $since (date: the fit day).
-- Identifiers: {{interactions}}, a table of act/interactions as of $since read up to the end of the
-- evaluation window (one pass gives the fit and the truth); the items first had after $since are the truth.
with interactions as (
    select * from {{interactions}}
),

final as (
    select *
    from interactions
    where first_date <= $since::date
)

select * from final
