-- The files with staged facts (transactions, events, feedback) as they are staged now: compared with the
-- watermark core.fact_observations stored (core/fact_observation_files.sql), then stored as the new one.
-- Grain: one row per (source, file) with staged facts. Key: source, file. Parameters: none.
-- facts: the file's rows in staging now; file_hash, config_fingerprint, loaded_at and run_id: the load
-- that staged them (audit.load_state). A file re-read (changed or fully refreshed), re-staged (its
-- source's config changed), or with rows replaced (a database source's newer versions) or erased since
-- the observations were brought up to date differs from the stored row in one of these columns.
with staged as (
    select source, _file from staging.transactions
    union all
    select source, _file from staging.events
    union all
    select source, _file from staging.feedback
),

counted as (
    select
        source,
        _file as file,
        count(*) as facts
    from staged
    group by all
),

loads as (
    select * from audit.load_state
),

final as (
    select
        counted.source,
        counted.file,
        counted.facts,
        loads.file_hash,
        loads.config_fingerprint,
        loads.loaded_at,
        loads.run_id
    from counted
    left join loads using (source, file)
)

select * from final
