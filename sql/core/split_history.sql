-- Table: core.split_history, the splits of customers: records of an earlier customer that became another one.
-- Grain: one row per split event (as_of, run_id, customer_id, new_customer_id). Key: run_id, customer_id,
-- new_customer_id. Written by forward dedupe runs (tasks/dedupe/ids.py, ids/splits.sql).
create table if not exists core.split_history (
    as_of date,
    run_id varchar,
    customer_id varchar,
    new_customer_id varchar,
    records bigint,
    recorded_at timestamptz default current_timestamp
)
