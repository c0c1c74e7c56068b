-- What a time-split evaluation checks recommendations against: the items customers took up after the fit day.
-- Grain: one row per (customer_id, item) first had after $since. Key: customer_id, item.
-- Parameters: $since (date: the day the recommendations are fitted as of).
-- Identifiers: {{interactions}}, a table of act/interaction_summary read from the days up to the end of the
-- evaluation window (built with $fit_day = $since: act/recommend_fit_interactions reads the same).
-- An item first had after $since is one the customer had not had by the end of $since.
with interactions as (
    select * from {{interactions}}
),

final as (
    select
        customer_id,
        item
    from interactions
    where first_date > $since::date
)

select * from final
