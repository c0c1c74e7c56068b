-- The files with staged rows of one kind as they are staged now: compared with the watermark a kept table
-- stored (features.activity_files for the roll-up of staging.events, features.order_files for
-- features.orders over staging.transactions), then stored as the new one (ops/file_watermark.sql).
-- Grain: one row per (source, file) with staged rows. Key: source, file. Parameters: none.
-- Identifiers: {{staged}} (the staging table) and {{rows}} (the name of its row count column).
-- rows: the file's rows in the staging table now; file_hash, config_fingerprint, loaded_at and run_id: the
-- load that staged them (audit.load_state). A file re-read (changed or fully refreshed), re-staged (its
-- source's config changed), or with rows replaced (a database source's newer versions) or erased since the
-- kept table was brought up to date differs from the stored row in one of these columns.
with staged as (
    select
        source,
        _file as file,
        count(*) as {{rows}}
    from {{staged}}
    group by all
),

loads as (
    select * from audit.load_state
),

final as (
    select
        staged.source,
        staged.file,
        staged.{{rows}},
        loads.file_hash,
        loads.config_fingerprint,
        loads.loaded_at,
        loads.run_id
    from staged
    left join loads using (source, file)
)

select * from final
