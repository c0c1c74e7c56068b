-- Each customer's interactions with each item per local day: what act/interactions weighs by age.
-- Grain: one row per (customer_id, item, interaction_date, purchase). Key: all four.
-- Parameters: $as_of (date: the last day read), $cutoff (the exclusive end of as_of), $session_types (list
-- of event_type).
-- An interaction is a session event with a category (a play: purchase false), or a paid purchase (positive
-- amount, not failed, pending, refunded or cancelled) with a category (purchase true); interactions counts
-- them. Plays come from the daily roll-up features.daily_activity (a row counts a record's events of one
-- local day, type and category; the identity map joins it to its customer), purchases from core.transactions.
with activity as (
    select * from features.daily_activity
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
        activity.category as item,
        activity.activity_date as interaction_date,
        false as purchase,
        activity.events as interactions
    from activity
    join identity
        on identity.source = activity.record_source
        and identity.source_id = activity.record_id
    where activity.activity_date <= $as_of::date
        and activity.category is not null
        and activity.event_type in (select unnest($session_types::varchar[]))
),

purchases as (
    select
        identity.customer_id,
        transactions.category as item,
        cast(transactions.ts as date) as interaction_date,
        true as purchase,
        1 as interactions
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
        interaction_date,
        purchase,
        cast(sum(interactions) as bigint) as interactions
    from interactions
    group by all
)

select * from final
