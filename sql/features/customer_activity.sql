-- Activity of every customer with events up to one day, from each record's activity of that day.
-- Grain: one row per customer_id with a roll-up row up to the day. Key: customer_id.
-- Parameters: none. Kept as features.customer_activity from run to run (tasks/features/customer_activity.py:
-- only the customers whose records' rows or membership changed are summed again), which
-- features/customer_features.sql reads (the test oracle tests/models/features/customer_activity_raw.sql
-- computes the same rows from the raw events).
-- Windows: "30d" means local dates in (day - 30 days, day]. features.record_activity holds the roll-up's
-- days up to the day (the events before its cutoff) summed per record and category; they are summed per
-- customer and category (core.identity_map joins one row per record and category), then per customer;
-- sums of the events are cast back to bigint (a sum of bigints is a hugeint).
-- Fragment {{customers}}: a condition on customer_id that keeps the customers computed (`true` for all).
with records as (
    -- each record's activity per category as of the day (features/record_activity.sql)
    select * from features.record_activity
),

identity as (
    select * from core.identity_map where {{customers}}
),

customer_categories as (
    select
        identity.customer_id,
        records.category,
        sum(records.sessions_30d) as sessions_30d,
        sum(records.sessions_90d) as sessions_90d,
        sum(records.sessions_180d) as sessions_180d,
        sum(records.sessions_total) as sessions_total,
        max(records.last_session_date) as last_session_date,
        sum(records.session_seconds_90d) as session_seconds_90d,
        sum(records.engagements_total) as engagements_total,
        max(records.last_event_date) as last_event_date
    from records
    join identity
        on identity.source = records.record_source
        and identity.source_id = records.record_id
    group by identity.customer_id, records.category
),

favourite as (
    -- the most played category (sessions in it); ties go to the alphabetically first
    select
        customer_id,
        first(category order by sessions_total desc, category asc) as favourite_game
    from customer_categories
    where category is not null
        and sessions_total is not null
    group by customer_id
),

totals as (
    select
        customer_id,
        cast(sum(sessions_30d) as bigint) as sessions_30d,
        cast(sum(sessions_90d) as bigint) as sessions_90d,
        cast(sum(sessions_180d) as bigint) as sessions_180d,
        cast(sum(sessions_total) as bigint) as sessions_total,
        max(last_session_date) as last_session_date,
        sum(session_seconds_90d) / 60.0 as session_minutes_90d,
        cast(sum(engagements_total) as bigint) as engagements_total,
        max(last_event_date) as last_event_date
    from customer_categories
    group by customer_id
),

final as (
    select
        totals.customer_id,
        totals.sessions_30d,
        totals.sessions_90d,
        totals.sessions_180d,
        totals.sessions_total,
        totals.last_session_date,
        totals.session_minutes_90d,
        favourite.favourite_game,
        totals.engagements_total,
        totals.last_event_date
    from totals
    left join favourite using (customer_id)
)

select * from final
