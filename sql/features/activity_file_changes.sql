-- How the staged event files differ from those features.daily_activity holds (features.activity_files).
-- Grain: one row per (source, file) that differs. Key: source, file. Parameters: none; reads
-- _activity_files_now (features/activity_files_now.sql: the files as staged now).
-- change: 'new', a file whose rows were all staged since the roll-up was refreshed (rolled up by
-- recomputing the (record, day) keys its rows touch); 'changed', a rolled-up file now gone, re-read,
-- re-staged or with fewer or more rows: which rows went is unknown, so the roll-up is rebuilt.
with held as (
    select * from features.activity_files
),

current as (
    select * from _activity_files_now
),

changed as (
    -- except compares whole rows, nulls equal (a database batch has no file_hash)
    select source, file
    from (
        select * from held
        except
        select * from current
    )
),

new as (
    select source, file from current
    anti join held using (source, file)
),

final as (
    select source, file, 'changed' as change from changed
    union all
    select source, file, 'new' as change from new
)

select * from final
