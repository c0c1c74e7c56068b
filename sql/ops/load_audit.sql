-- Table: audit.load_audit, per file read: rows read = staged + quarantined + duplicates dropped.
-- Grain: one row per (run_id, source, file) read in a run. Written by tasks/extract.
create table if not exists audit.load_audit (
    run_id varchar,
    source varchar,
    file varchar,
    file_hash varchar,
    rows_read bigint,
    rows_staged bigint,
    rows_quarantined bigint,
    duplicates_dropped bigint,
    seconds double,
    loaded_at timestamptz
)
