-- Table: audit.quarantine, the raw rows extract did not stage: the field and reason, and the raw row.
-- Grain: one row per quarantined raw row (source, file, row_number) per load. Written by tasks/extract.
-- field is null for a reason about the whole row (no customer reference, a conflicting duplicate).
create table if not exists audit.quarantine (
    run_id varchar,
    source varchar,
    file varchar,
    row_number bigint,
    field varchar,
    reason varchar,
    record json
)
