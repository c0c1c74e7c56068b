-- Table: core.identity_state, the customer_id each record had after the latest forward dedupe run that saw it.
-- Grain: one row per customer record (source, source_id). Key: source, source_id.
-- Written by tasks/dedupe/ids.py (ids/forget_assigned.sql, ids/assigned_state.sql); read by the next run.
-- as_of, run_id: the forward run that last assigned the record its id; a run that re-resolves only the
-- touched components (tasks/dedupe/touched.py) leaves the other records' rows as they are.
create table if not exists core.identity_state (
    source varchar,
    source_id varchar,
    customer_id varchar,
    as_of date,
    run_id varchar
)
