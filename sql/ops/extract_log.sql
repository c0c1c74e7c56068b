-- Table: audit.extract_log, what each source load did in each run (tasks.extract.SourceLoad).
-- Grain: one row per (run_id, source). status: loaded | unchanged | restaged.
create table if not exists audit.extract_log (
    run_id varchar,
    source varchar,
    kind varchar,
    files integer,
    files_loaded integer,
    rows_read bigint,
    rows_staged bigint,
    rows_quarantined bigint,
    duplicates_dropped bigint,
    status varchar,
    loaded_at timestamptz
)
