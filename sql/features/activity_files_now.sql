-- The files with staged events as they are staged now: compared with the watermark the roll-up stored
-- (features/activity_files.sql), then stored as the new one.
-- Grain: one row per (source, file) with staged events. Key: source, file. Parameters: none.
-- events: the file's rows in staging.events now; file_hash, config_fingerprint, loaded_at and run_id:
-- the load that staged them (audit.load_state). A file re-read (changed or fully refreshed), re-staged
-- (its source's config changed), or with rows replaced (a database source's newer versions) or erased
-- since the roll-up was refreshed differs from the stored row in one of these columns.
with staged as (
    select
        source,
        _file as file,
        count(*) as events
    from staging.events
    group by all
),

loads as (
    select * from audit.load_state
),

final as (
    select
        staged.source,
        staged.file,
        staged.events,
        loads.file_hash,
        loads.config_fingerprint,
        loads.loaded_at,
        loads.run_id
    from staged
    left join loads using (source, file)
)

select * from final
