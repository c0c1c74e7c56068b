-- Table: core.identity_runs, every dedupe run's id assignment (forward or backfill) and its counts.
-- Grain: one row per dedupe run. Key: run_id (recorded_at orders the runs). Written by tasks/dedupe/ids.py.
create table if not exists core.identity_runs (
    as_of date,
    run_id varchar,
    mode varchar,
    records bigint,
    customers bigint,
    new_customers bigint,
    merges bigint,
    splits bigint,
    recorded_at timestamptz default current_timestamp
)
