-- Table: core.merge_history, the merges of customers: an id that now redirects to a surviving id.
-- Grain: one row per merge event (as_of, run_id, merged_customer_id). Key: run_id, merged_customer_id.
-- Written by forward dedupe runs (tasks/dedupe/ids.py, ids/merges.sql).
create table if not exists core.merge_history (
    as_of date,
    run_id varchar,
    merged_customer_id varchar,
    surviving_customer_id varchar,
    records bigint,
    match_rules varchar[],
    recorded_at timestamptz default current_timestamp
)
