-- Test oracle: predict/activity_periods as it was defined over the raw events (core.events), before the features stage's
-- daily roll-up; what the roll-up gives must equal it exactly.
-- Each customer's purchases and sessions by period: the predict stage's inputs, in one pass.
-- Grain: one row per customer_id and period. Key: customer_id, period.
-- Parameters: $as_of (date), $cutoff (exclusive end of the as_of day), $horizon (days per period),
-- $oldest (the last period kept apart), $session_types (list of event_type), and $start_0 .. $start_{n}
-- (n = $oldest - 1: the first instant of period k, local midnight, as timestamptz).
-- Period p holds the local dates in (as_of - (p + 1) * horizon, as_of - p * horizon]: period 0 ends with
-- as_of. A snapshot k periods back (its day is as_of - k * horizon) sees the periods >= k, and the
-- period k - 1 is what happened in the horizon after it. Period $oldest holds everything older (the
-- snapshots need the older periods only summed). Only data before $cutoff is read.
-- Template filled by tasks/predict: session_period is a case expression over events.ts and the
-- $start_k parameters (comparing instants is much cheaper than converting 10M timestamps to dates).
-- A purchase day is a local date with at least one purchase (features.orders.purchase); spend is the
-- net amount of its purchases in the base currency (null when one of them has no rate; a period's spend
-- sums the days with a known spend, and priced_purchase_days counts them). Orders are netted as of
-- as_of: a refund after a past snapshot of an order before it counts at that snapshot (so only the
-- backtests' past snapshots can see it, never the as_of).
with orders as (
    select * from features.orders
),

events as (
    select
        identity.customer_id,
        {{session_period}} as period,
        events.ts,
        events.category,
        events.duration_s
    from core.events as events
    join core.identity_map as identity
        on identity.source = events.record_source
        and identity.source_id = events.record_id
    where events.ts < $cutoff
        and events.event_type in (select unnest($session_types::varchar[]))
),

purchase_days as (
    select
        customer_id,
        order_date as purchase_date,
        count(*) as purchases,
        case when count(net_amount) = count(*) then sum(net_amount) end as spend
    from orders
    where purchase
    group by customer_id, order_date
),

purchase_periods as (
    select
        customer_id,
        least(($as_of::date - purchase_date) // $horizon, $oldest) as period,
        count(*) as purchase_days,
        sum(purchases) as purchases,
        sum(spend) as spend,
        count(spend) as priced_purchase_days,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        arg_min_null(spend, purchase_date) as first_day_spend
    from purchase_days
    group by all
),

session_games as (
    select
        customer_id,
        period,
        category,
        count(*) as sessions,
        sum(duration_s) as duration_s,
        max(ts) as last_session_ts
    from events
    group by all
),

session_periods as (
    -- the favourite game of a period: its most played category, ties to the alphabetically first
    select
        customer_id,
        period,
        sum(sessions) as sessions,
        coalesce(sum(duration_s), 0) / 60.0 as session_minutes,
        cast(max(last_session_ts) as date) as last_session_date,
        first(category order by sessions desc, category asc) filter (where category is not null)
            as favourite_game
    from session_games
    group by customer_id, period
),

final as (
    select
        customer_id,
        period,
        coalesce(purchase_periods.purchase_days, 0) as purchase_days,
        coalesce(purchase_periods.purchases, 0) as purchases,
        purchase_periods.spend,
        coalesce(purchase_periods.priced_purchase_days, 0) as priced_purchase_days,
        purchase_periods.first_purchase_date,
        purchase_periods.last_purchase_date,
        purchase_periods.first_day_spend,
        coalesce(session_periods.sessions, 0) as sessions,
        coalesce(session_periods.session_minutes, 0) as session_minutes,
        session_periods.last_session_date,
        session_periods.favourite_game
    from purchase_periods
    full join session_periods using (customer_id, period)
)

select * from final
