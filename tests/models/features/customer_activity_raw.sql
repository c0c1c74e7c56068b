-- Test oracle: _customer_activity (sql/features/customer_activity.sql) as it was defined over the raw
-- events (core.events), before the daily roll-up; features/customer_features.sql over either must give
-- the same rows exactly (tests/models/features/oracle.py).
-- Grain: one row per customer_id with an event before $cutoff. Key: customer_id.
-- Parameters: $as_of (date), $cutoff (exclusive end of the as_of day), $session_types (list of event_type).
-- Windows: "30d" means local dates in (as_of - 30 days, as_of].
with events as (
    select
        identity.customer_id,
        events.ts,
        cast(events.ts as date) as event_date,
        events.event_type,
        events.category,
        events.duration_s
    from core.events as events
    join core.identity_map as identity
        on identity.source = events.record_source
        and identity.source_id = events.record_id
    where events.ts < $cutoff
),

sessions as (
    select
        customer_id,
        count(*) filter (where event_date > $as_of - 30) as sessions_30d,
        count(*) filter (where event_date > $as_of - 90) as sessions_90d,
        count(*) filter (where event_date > $as_of - 180) as sessions_180d,
        count(*) as sessions_total,
        max(event_date) as last_session_date,
        sum(duration_s) filter (where event_date > $as_of - 90) / 60.0 as session_minutes_90d
    from events
    where event_type in (select unnest($session_types::varchar[]))
    group by customer_id
),

favourite as (
    -- the most played category; ties go to the alphabetically first
    select
        customer_id,
        first(category order by plays desc, category asc) as favourite_game
    from (
        select customer_id, category, count(*) as plays
        from events
        where category is not null
            and event_type in (select unnest($session_types::varchar[]))
        group by customer_id, category
    )
    group by customer_id
),

engagement as (
    select
        customer_id,
        count(*) filter (where event_type not in (select unnest($session_types::varchar[]))) as engagements_total,
        max(event_date) as last_event_date
    from events
    group by customer_id
),

final as (
    select
        engagement.customer_id,
        sessions.sessions_30d,
        sessions.sessions_90d,
        sessions.sessions_180d,
        sessions.sessions_total,
        sessions.last_session_date,
        sessions.session_minutes_90d,
        favourite.favourite_game,
        engagement.engagements_total,
        engagement.last_event_date
    from engagement
    left join sessions using (customer_id)
    left join favourite using (customer_id)
)

select * from final
