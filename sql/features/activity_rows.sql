-- Every event of the days new files touch (old and new rows alike), with its record: what those days'
-- roll-up rows are recomputed from (features/daily_activity.sql over _activity_rows).
-- Grain: one row per staged event on such a day (source, _file, _row). Parameters: $from_ts, $to_ts
-- (the start of the first such day, the end of the last); reads _activity_touched
-- (features/activity_touched.sql). The range is only a cheap first filter (comparisons in the scan,
-- before any row's local date is computed); the days themselves decide.
with events as (
    select * from core.events
),

touched as (
    select * from _activity_touched
),

final as (
    select
        events.record_source,
        events.record_id,
        events.ts,
        events.event_type,
        events.category,
        events.duration_s
    from events
    semi join touched
        on touched.activity_date = cast(events.ts as date)
    where events.ts >= $from_ts
        and events.ts < $to_ts
)

select * from final
