-- Table: published.runs, the publishes of each as_of: which run, config and code published it, and how many rows.
-- Grain: one row per publish (run_id, as_of); a rerun of a day adds a row. Written by publish_tables.
create table if not exists published.runs (
    run_id varchar,
    as_of date,
    config_hash varchar,
    code_version varchar,
    rows bigint,
    published_at timestamptz
)
