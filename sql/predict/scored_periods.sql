-- Each customer's purchases and sessions by period, as a day scored with stored models reads them: the
-- rows of sql/predict/activity_periods.sql with $oldest = 2 and $detailed = 1 that snapshot 0
-- (sql/predict/snapshots.sql) reads, from a third of the roll-up.
-- Input: temp table _recent_periods, sql/predict/activity_periods.sql with those parameters and $since =
-- as_of - 2 * horizon (every purchase period, the sessions of periods 0 and 1 only).
-- Grain: one row per customer_id and period (0, 1, 2). Key: customer_id, period.
-- Parameters: none. Fragment {{shard}} (tasks/shared/shards.py): a condition on customer_id that keeps one
-- shard's customers (`true` for all), as _recent_periods was built for.
-- Reads features.customer_features, which must be of the as_of (the predict stage checks it).
-- Periods 0 and 1 (the local dates in (as_of - 2 * horizon, as_of]) are _recent_periods'. Period 2,
-- everything older, is what is left of the customer's sessions (features.customer_features.sessions_total, over the same roll-up,
-- session types and identity map) when periods 0 and 1 are taken off: present exactly when the
-- customer has a session before period 1. Snapshot 0 reads of it only its sessions and, through the
-- maximum over every period, its last session date: that is the customer's last session date (the
-- maximum is the same), and its session minutes are not read (0 here).
with recent as (
    select * from _recent_periods
),

features as (
    select * from features.customer_features where {{shard}}
),

recent_totals as (
    select
        customer_id,
        sum(sessions) as sessions
    from recent
    group by customer_id
),

older_sessions as (
    select
        features.customer_id,
        2 as period,
        features.sessions_total - coalesce(recent_totals.sessions, 0) as sessions,
        features.last_session_date
    from features
    left join recent_totals using (customer_id)
    where features.sessions_total - coalesce(recent_totals.sessions, 0) > 0
),

final as (
    -- recent has no sessions in period 2 (0 sessions, 0 minutes, no last date nor favourite game)
    select
        customer_id,
        period,
        coalesce(recent.purchase_days, 0) as purchase_days,
        coalesce(recent.purchases, 0) as purchases,
        recent.spend,
        coalesce(recent.priced_purchase_days, 0) as priced_purchase_days,
        recent.first_purchase_date,
        recent.last_purchase_date,
        recent.first_day_spend,
        coalesce(older_sessions.sessions, recent.sessions, 0) as sessions,
        coalesce(recent.session_minutes, 0) as session_minutes,
        coalesce(older_sessions.last_session_date, recent.last_session_date) as last_session_date,
        recent.favourite_game
    from recent
    full join older_sessions using (customer_id, period)
)

select * from final
