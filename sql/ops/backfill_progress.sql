-- Table: published.backfill_progress, the days each backfill request has completed, so a restart resumes.
-- Grain: one row per (backfill_id, as_of) completed. Written by flows/backfill.py; a finished request's rows are deleted.
create table if not exists published.backfill_progress (
    backfill_id varchar,
    as_of date,
    flow_run_id varchar,
    finished_at timestamptz
)
