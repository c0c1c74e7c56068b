-- Test oracle: act/interaction_summary as it was defined over the raw events (core.events), before the features stage's
-- daily roll-up; what the roll-up gives must equal it exactly.
-- Each customer's interest in each item (a game type or product category) as of a day, SAR-style.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $as_of (date), $cutoff (exclusive end of the rows read: the end of the as_of day, or a later
-- instant), $session_types (list of event_type), $half_life_days (double), $purchase_weight (double: what
-- one purchase counts for, a play counting 1), $epoch (date: the day the weights are counted from).
-- An interaction is a session event with a category, or a paid purchase (positive amount, not failed,
-- pending, refunded or cancelled) with a category. Each weighs 2^(-age / $half_life_days), age being
-- whole local days before as_of (0 on the as_of day); affinity is their sum: 2^(-($as_of - $epoch) /
-- $half_life_days) times the sum of 2^((day - $epoch) / $half_life_days) added up as decimals (24 places),
-- exact, so it does not depend on the order parallel threads add them in. Only rows before $cutoff.
-- Rows after the as_of day (when $cutoff is later: a time-split evaluation reads its fit and its truth in
-- one pass) count only for first_date: an item first had after as_of has affinity 0, no plays or
-- purchases and no last_date.
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
                cast(weight * pow(2, (interaction_date - $epoch::date) / $half_life_days::double) as decimal(38, 24))
            ) filter (where interaction_date <= $as_of::date),
            0
        )::double * pow(2, -($as_of::date - $epoch::date) / $half_life_days::double) as affinity,
        count(*) filter (where not purchase and interaction_date <= $as_of::date) as plays,
        count(*) filter (where purchase and interaction_date <= $as_of::date) as purchases,
        min(interaction_date) as first_date,
        max(interaction_date) filter (where interaction_date <= $as_of::date) as last_date
    from interactions
    group by customer_id, item
)

select * from final
