-- Table: features.activity_files, the watermark of features.daily_activity: the files whose staged events
-- it holds, as they were staged when it was last brought up to date (features/staged_files_now.sql).
-- Grain: one row per (source, file) with staged events. Key: source, file. Parameters: none; reads
-- _activity_files_now.
with final as (
    select * from _activity_files_now
)

select * from final
