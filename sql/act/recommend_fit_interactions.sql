-- The interactions a time-split evaluation fits on: those of the items customers had by the fit day, as of it.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $since (date: the fit day).
-- Identifiers: {{interactions}}, a table of act/interaction_summary built with $fit_day = $since, from the days
-- up to the end of the evaluation window: its fit_ columns are the interactions weighed as of $since (the same
-- values as act/interaction_summary built as of $since), in act/interaction_summary's columns here; the items
-- first had after $since are the truth (act/recommendation_truth).
with interactions as (
    select * from {{interactions}}
),

final as (
    select
        customer_id,
        item,
        fit_affinity as affinity,
        fit_plays as plays,
        fit_purchases as purchases,
        first_date,
        fit_last_date as last_date
    from interactions
    where first_date <= $since::date
)

select * from final
