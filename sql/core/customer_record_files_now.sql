-- The files with staged customer records as they are staged now: compared with the watermark that
-- core.customer_records was last built with (core/customer_record_files.sql), then stored as the new one.
-- Grain: one row per (source, file) with staged customer rows. Key: source, file. Parameters: none.
-- records: the file's rows in staging now (every version); content: a fingerprint of those rows (the xor of
-- their hashes) but for valid_to, which a new version in another file moves (that file's record is brought
-- up to date anyway); file_hash, config_fingerprint, loaded_at and run_id: the load that staged them
-- (audit.load_state). A file re-read, re-staged (its source's config changed), with rows replaced (a
-- database source's newer versions), erased or edited in place since the tables were built differs from the
-- stored row in one of these columns (sql/ops/file_changes.sql: 'changed').
with staged as (
    select * exclude (valid_to) from staging.customers
),

counted as (
    select
        source,
        _file as file,
        count(*) as records,
        bit_xor(hash(staged)) as content
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
        counted.records,
        counted.content,
        loads.file_hash,
        loads.config_fingerprint,
        loads.loaded_at,
        loads.run_id
    from counted
    left join loads using (source, file)
)

select * from final
