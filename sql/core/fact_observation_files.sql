-- Table: core.fact_observation_files, the watermark of core.fact_observations: the files whose staged facts
-- it holds, as they were staged when it was last brought up to date (core/fact_observation_files_now.sql;
-- replaced by ops/file_watermark.sql each run, created empty before the first).
-- Grain: one row per (source, file) with staged facts. Key: source, file.
create table if not exists core.fact_observation_files (
    source varchar,
    file varchar,
    facts bigint,
    file_hash varchar,
    config_fingerprint varchar,
    loaded_at timestamptz,
    run_id varchar
)
