-- How the staged files differ from those a kept table was last brought up to date with (its watermark):
-- core.fact_observations, core.customer_records (tasks/dedupe), features.daily_activity and features.orders
-- (tasks/features); ops/file_watermark.sql stores it.
-- Grain: one row per (source, file) that differs. Key: source, file. Parameters: none.
-- {{held}}: the stored watermark; {{current}}: the files as staged now, with the same columns (the load that
-- staged each and its row count: core/fact_observation_files_now.sql, features/staged_files_now.sql).
-- change: 'new', a file whose rows were all staged since the kept table was brought up to date (added to
-- it); 'changed', a file it holds now gone, re-read, re-staged or with fewer or more rows: which rows went
-- is unknown, so the kept table is rebuilt.
with held as (
    select * from {{held}}
),

current as (
    select * from {{current}}
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
