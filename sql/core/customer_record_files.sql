-- Table: core.customer_record_files, the watermark of core.customer_records and core.record_observations:
-- the files of staged customer records as they were staged when the tables were last built or brought up
-- to date (core/customer_record_files_now.sql, stored by ops/file_watermark.sql each run;
-- created empty before the first).
-- Grain: one row per (source, file) with staged customer rows. Key: source, file.
create table if not exists core.customer_record_files (
    source varchar,
    file varchar,
    records bigint,
    content ubigint,
    file_hash varchar,
    config_fingerprint varchar,
    loaded_at timestamptz,
    run_id varchar
)
