-- Each customer's purchases and sessions by period, as a day scored with stored models reads them: the
-- rows of sql/predict/activity_periods.sql with $oldest = 2 and $detailed = 1 that snapshot 0
-- (sql/predict/snapshots.sql) reads, from a third of the roll-up.
-- Grain: one row per customer_id and period (0, 1, 2). Key: customer_id, period.
-- Parameters: $as_of (date), $horizon (days per period), $session_types (list of event_type).
-- Reads features.customer_features, which must be of $as_of (the predict stage checks it).
-- Periods 0 and 1 (the local dates in (as_of - 2 * horizon, as_of]) are summed from the daily roll-up as
-- activity_periods.sql sums them (by category in period 0 only). Period 2, everything older, is what is
-- left of the customer's sessions (features.customer_features.sessions_total, over the same roll-up,
-- session types and identity map) when periods 0 and 1 are taken off: present exactly when the
-- customer has a session before period 1. Snapshot 0 reads of it only its sessions and, through the
-- maximum over every period, its last session date: that is the customer's last session date (the
-- maximum is the same), and its session minutes are not read (0 here).
with orders as (
    select * from features.orders
),

activity as (
    select * from features.daily_activity
),

identity as (
    select * from core.identity_map
),

features as (
    select * from features.customer_features
),

record_games as (
    -- periods 0 and 1 only: the days after as_of - 2 * horizon
    select
        record_source,
        record_id,
        ($as_of::date - activity_date) // $horizon as period,
        case when period < 1 then category end as category,
        sum(events) as sessions,
        sum(duration_s) as duration_s,
        max(activity_date) as last_session_date
    from activity
    where activity_date <= $as_of::date
        and activity_date > $as_of::date - 2 * $horizon
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
        least(($as_of::date - purchase_date) // $horizon, 2) as period,
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

recent_periods as (
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

recent_totals as (
    select
        customer_id,
        sum(sessions) as sessions
    from recent_periods
    group by customer_id
),

older_periods as (
    select
        features.customer_id,
        2 as period,
        features.sessions_total - coalesce(recent_totals.sessions, 0) as sessions,
        0 as session_minutes,
        features.last_session_date,
        null::varchar as favourite_game
    from features
    left join recent_totals using (customer_id)
    where features.sessions_total - coalesce(recent_totals.sessions, 0) > 0
),

session_periods as (
    select * from recent_periods
    union all
    select * from older_periods
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
