-- The files whose staged events are rolled up into features.daily_activity, as they are staged now:
-- the roll-up's watermark (stored as features.activity_files after each refresh).
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
