-- The interactions a time-split evaluation fits on: those of the items customers had by the fit day, as of it.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $since (date: the fit day).
-- Identifiers: {{interactions}}, a table of act/interaction_summary as of $since weighed from the days up to the end
-- of the evaluation window; the items first had after $since are the truth (act/recommendation_truth).
with interactions as (
    select * from {{interactions}}
),

final as (
    select *
    from interactions
    where first_date <= $since::date
)

select * from final
