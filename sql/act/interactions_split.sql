-- Each customer's interest in each item as of a day and as of an earlier fit day, from one read of the rows.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $as_of (date), $since (date: the fit day of a time-split evaluation, on or before $as_of),
-- $cutoff (exclusive end of the rows read: the end of the as_of day), $session_types (list of event_type),
-- $half_life_days (double), $purchase_weight (double).
-- affinity, plays, purchases, first_date and last_date are act/interactions as of $as_of; fit_affinity,
-- fit_plays, fit_purchases and fit_last_date are act/interactions as of $since read up to $cutoff (the same
-- expressions, filtered to the days up to $since): a day's recommendations and its evaluation's fit and
-- truth (act/recommend_fit_interactions, act/recommendation_truth) come from one pass over the events.
-- Sums of weights are added up as decimals (24 places), as in act/interactions.
with events as (
    select * from core.events
),

transactions as (
    select * from core.transactions
),

identity as (
    select * from core.identity_map
),

plays as (
    select
        identity.customer_id,
        events.category as item,
        cast(events.ts as date) as interaction_date,
        1.0 as weight,
        false as purchase
    from events
    join identity
        on identity.source = events.record_source
        and identity.source_id = events.record_id
    where events.ts < $cutoff
        and events.category is not null
        and events.event_type in (select unnest($session_types::varchar[]))
),

purchases as (
    select
        identity.customer_id,
        transactions.category as item,
        cast(transactions.ts as date) as interaction_date,
        $purchase_weight::double as weight,
        true as purchase
    from transactions
    join identity
        on identity.source = transactions.record_source
        and identity.source_id = transactions.record_id
    where transactions.ts < $cutoff
        and transactions.category is not null
        and transactions.amount > 0
        and coalesce(transactions.status, 'paid') not in ('failed', 'pending', 'refunded', 'cancelled')
),

interactions as (
    select * from plays
    union all
    select * from purchases
),

final as (
    select
        customer_id,
        item,
        coalesce(
            sum(
                cast(weight * pow(2, -($as_of::date - interaction_date) / $half_life_days::double) as decimal(38, 24))
            ) filter (where interaction_date <= $as_of::date),
            0
        )::double as affinity,
        count(*) filter (where not purchase and interaction_date <= $as_of::date) as plays,
        count(*) filter (where purchase and interaction_date <= $as_of::date) as purchases,
        min(interaction_date) as first_date,
        max(interaction_date) filter (where interaction_date <= $as_of::date) as last_date,
        coalesce(
            sum(
                cast(weight * pow(2, -($since::date - interaction_date) / $half_life_days::double) as decimal(38, 24))
            ) filter (where interaction_date <= $since::date),
            0
        )::double as fit_affinity,
        count(*) filter (where not purchase and interaction_date <= $since::date) as fit_plays,
        count(*) filter (where purchase and interaction_date <= $since::date) as fit_purchases,
        max(interaction_date) filter (where interaction_date <= $since::date) as fit_last_date
    from interactions
    group by customer_id, item
)

select * from final
