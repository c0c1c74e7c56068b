-- Table: published.runs, the publishes of each as_of: which run, config and code published it, how many rows,
-- whether the day's data was still incomplete (partial: a run before the day had ended), and the export
-- version the publish committed (exports/.versions/<as_of>/<export_version>/).
-- Grain: one row per publish (run_id, as_of); a rerun of a day adds a row. Written by publish_tables.
-- A column added after the table was first defined is also added by an `alter` below, for the
-- warehouses created before it (their earlier publishes get its default).
create table if not exists published.runs (
    run_id varchar,
    as_of date,
    config_hash varchar,
    code_version varchar,
    rows bigint,
    published_at timestamptz,
    partial boolean default false,
    export_version varchar
);

alter table published.runs add column if not exists partial boolean default false;
alter table published.runs add column if not exists export_version varchar;
