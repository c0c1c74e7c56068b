-- The files with staged transactions as they are staged now: compared with the watermark features.orders
-- stored (features/order_files.sql), then stored as the new one.
-- Grain: one row per (source, file) with staged transactions. Key: source, file. Parameters: none.
-- transactions: the file's rows in staging.transactions now; file_hash, config_fingerprint, loaded_at and
-- run_id: the load that staged them (audit.load_state). A file re-read, re-staged, with rows replaced or
-- erased since the orders were brought up to date differs from the stored row in one of these columns.
with staged as (
    select
        source,
        _file as file,
        count(*) as transactions
    from staging.transactions
    group by all
),

loads as (
    select * from audit.load_state
),

final as (
    select
        staged.source,
        staged.file,
        staged.transactions,
        loads.file_hash,
        loads.config_fingerprint,
        loads.loaded_at,
        loads.run_id
    from staged
    left join loads using (source, file)
)

select * from final
