-- Table: audit.duplicates, the raw rows extract dropped as another copy of a kept row (same id, same values).
-- Grain: one row per dropped raw row (source, file, row_number), with the row kept. Written by tasks/extract.
create table if not exists audit.duplicates (
    run_id varchar,
    source varchar,
    file varchar,
    row_number bigint,
    id varchar,
    kept_file varchar,
    kept_row_number bigint
)
