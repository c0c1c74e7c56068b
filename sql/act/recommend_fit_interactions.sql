-- The interactions a time-split evaluation fits on: those of the items customers had by the fit day, as of it.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $since (date: the fit day).
-- Identifiers: {{interactions}}, a table of act/interactions_split (as of the end of the evaluation window,
-- with the fit day's figures beside); the items first had after $since are the truth.
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
