-- Each customer's purchases and sessions by period: the predict stage's inputs, in one pass.
-- Grain: one row per customer_id and period. Key: customer_id, period.
-- Parameters: $as_of (date), $horizon (days per period), $oldest (the last period kept apart),
-- $session_types (list of event_type), $detailed (the periods before it keep sessions by category),
-- $since (null, or a date: sessions are read only after it; sql/predict/scored_periods.sql adds the older ones).
-- Period p holds the local dates in (as_of - (p + 1) * horizon, as_of - p * horizon]: period 0 ends with
-- as_of. A snapshot k periods back (its day is as_of - k * horizon) sees the periods >= k, and the
-- period k - 1 is what happened in the horizon after it. Period $oldest holds everything older (the
-- snapshots need the older periods only summed). Only the days up to as_of are read.
-- Sessions come from the daily roll-up features.daily_activity (a row counts a record's events of one
-- local day, type and category), summed per record first and then per customer (the identity map then
-- joins one row per record, period and category instead of one per roll-up row). Only the periods
-- before $detailed are summed by category: in a later period every category counts as one (null), so
-- its favourite_game is null and its session_minutes sum its days in another order. A day scored with
-- stored models reads neither beyond period 0 ($detailed = 1: fewer groups to sum and join); a fit day
-- keeps every period apart ($detailed > $oldest).
-- A purchase day is a local date with at least one purchase (features.orders.purchase); spend is the
-- net amount of its purchases in the base currency (null when one of them has no rate; a period's spend
-- sums the days with a known spend, and priced_purchase_days counts them). Orders are netted as of
-- as_of: a refund after a past snapshot of an order before it counts at that snapshot (so only the
-- backtests' past snapshots can see it, never the as_of).
-- Fragments (tasks/shared/shards.py): {{shard}}, a condition on customer_id that keeps one shard's customers,
-- and {{shard_records}}, one on the roll-up row (activity) that keeps their records' rows; both `true` for all.
with orders as (
    select * from features.orders where {{shard}}
),

activity as (
    select * from features.daily_activity as activity where {{shard_records}}
),

identity as (
    select * from core.identity_map
),

record_games as (
    select
        record_source,
        record_id,
        least(($as_of::date - activity_date) // $horizon, $oldest) as period,
        case when period < $detailed then category end as category,
        sum(events) as sessions,
        sum(duration_s) as duration_s,
        max(activity_date) as last_session_date
    from activity
    where activity_date <= $as_of::date
        and ($since::date is null or activity_date > $since::date)
        and event_type in (select unnest($session_types::varchar[]))
    group by all
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
        identity.customer_id,
        record_games.period,
        record_games.category,
        sum(record_games.sessions) as sessions,
        sum(record_games.duration_s) as duration_s,
        max(record_games.last_session_date) as last_session_date
    from record_games
    join identity
        on identity.source = record_games.record_source
        and identity.source_id = record_games.record_id
    group by all
),

session_periods as (
    -- the favourite game of a period: its most played category, ties to the alphabetically first
    select
        customer_id,
        period,
        sum(sessions) as sessions,
        coalesce(sum(duration_s), 0) / 60.0 as session_minutes,
        max(last_session_date) as last_session_date,
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
