-- How the staged fact files differ from those core.fact_observations holds (core.fact_observation_files).
-- Grain: one row per (source, file) that differs. Key: source, file. Parameters: none; reads
-- _fact_observation_files_now (core/fact_observation_files_now.sql: the files as staged now).
-- change: 'new', a file whose rows were all staged since the observations were brought up to date (folded
-- in); 'changed', a folded file now gone, re-read, re-staged or with fewer or more rows: which rows went
-- is unknown, so the observations are rebuilt.
with held as (
    select * from core.fact_observation_files
),

current as (
    select * from _fact_observation_files_now
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
