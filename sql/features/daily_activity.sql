-- Activity of every customer record per local day: what customer_features (and later predict and act)
-- read instead of the events themselves.
-- Grain: one row per (record_source, record_id, activity_date, event_type, category).
-- Key: record_source, record_id, activity_date, event_type, category (event_type and category may be null).
-- Parameters: none. Template filled by tasks/features/activity.py: events names the events rolled up,
-- core.events (a rebuild) or _activity_rows (every event of the days new rows touch).
-- activity_date is the event's date in the warehouse's time zone (the connection's TimeZone), the date
-- customer_features has always given an event. Every staged event is rolled up whatever its day: a
-- reader keeps the days up to its as_of (activity_date <= as_of is ts < the as_of's cutoff).
-- events counts the rows; duration_s sums theirs (null when none of them has one, as sum() is).
with events as (
    select * from {{events}}
),

final as (
    select
        record_source,
        record_id,
        cast(ts as date) as activity_date,
        event_type,
        category,
        count(*) as events,
        sum(duration_s) as duration_s
    from events
    where ts is not null
    group by all
)

select * from final
