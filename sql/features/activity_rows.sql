-- Every event of the days new files touch (old and new rows alike), with its record: what those days'
-- roll-up rows are recomputed from (features/daily_activity.sql over _activity_rows).
-- Grain: one row per staged event on such a day (source, _file, _row). Parameters: none; reads
-- _activity_touched (features/activity_touched.sql).
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
)

select * from final
