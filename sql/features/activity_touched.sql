-- The local days of the events staged in new files: the days of features.daily_activity to recompute.
-- Grain: one row per activity_date. Key: activity_date. Parameters: none; reads _activity_file_changes
-- (ops/file_changes.sql). A late row (a day already rolled up) puts its day here too.
with events as (
    select * from staging.events
),

new_files as (
    select source, file
    from _activity_file_changes
    where change = 'new'
),

final as (
    select distinct cast(events.ts as date) as activity_date
    from events
    semi join new_files
        on new_files.source = events.source
        and new_files.file = events._file
    where events.ts is not null
)

select * from final
