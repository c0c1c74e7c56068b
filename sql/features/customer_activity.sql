-- Activity of every customer with events up to one day, from the daily roll-up features.daily_activity.
-- Grain: one row per customer_id with a roll-up row up to $as_of. Key: customer_id.
-- Parameters: $as_of (date), $session_types (list of event_type).
-- Built as the temp table _customer_activity that features/customer_features.sql reads (the test oracle
-- tests/models/features/customer_activity_raw.sql builds the same table from the raw events).
-- Windows: "30d" means local dates in (as_of - 30 days, as_of]. The roll-up (the days up to as_of: the
-- events before the as_of's cutoff) is read once, summed per record and category, then per customer and
-- category (core.identity_map joins one row per record and category), then per customer; sums of the
-- roll-up's events are cast back to bigint (a sum of bigints is a hugeint).
-- Fragments (tasks/shared/shards.py): {{shard}}, a condition on customer_id that keeps one shard's customers, and
-- {{shard_records}}, one on the roll-up row (activity) that keeps their records' rows; both `true` for all.
with activity as (
    -- each roll-up row counts the events of its record, day, type and category
    select
        *,
        event_type in (select unnest($session_types::varchar[])) as is_session
    from features.daily_activity as activity
    where activity_date <= $as_of
        and {{shard_records}}
),

identity as (
    select * from core.identity_map where {{shard}}
),

record_categories as (
    -- the one pass over the roll-up; category null holds the events without one
    select
        record_source,
        record_id,
        category,
        sum(events) filter (where is_session and activity_date > $as_of - 30) as sessions_30d,
        sum(events) filter (where is_session and activity_date > $as_of - 90) as sessions_90d,
        sum(events) filter (where is_session and activity_date > $as_of - 180) as sessions_180d,
        sum(events) filter (where is_session) as sessions_total,
        max(activity_date) filter (where is_session) as last_session_date,
        sum(duration_s) filter (where is_session and activity_date > $as_of - 90) as session_seconds_90d,
        sum(events) filter (where not is_session) as engagements_total,
        max(activity_date) as last_event_date
    from activity
    group by record_source, record_id, category
),

customer_categories as (
    select
        identity.customer_id,
        record_categories.category,
        sum(record_categories.sessions_30d) as sessions_30d,
        sum(record_categories.sessions_90d) as sessions_90d,
        sum(record_categories.sessions_180d) as sessions_180d,
        sum(record_categories.sessions_total) as sessions_total,
        max(record_categories.last_session_date) as last_session_date,
        sum(record_categories.session_seconds_90d) as session_seconds_90d,
        sum(record_categories.engagements_total) as engagements_total,
        max(record_categories.last_event_date) as last_event_date
    from record_categories
    join identity
        on identity.source = record_categories.record_source
        and identity.source_id = record_categories.record_id
    group by identity.customer_id, record_categories.category
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
