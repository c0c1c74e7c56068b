-- Table: audit.raw_row_marks, what holds for single rows of the files in audit.raw_files: a row checked again by
-- a later run (run_id, set when a row it repeated was removed) or hidden (an erased person's row: the file
-- is the source system's and is not rewritten; raw.<source> leaves the row out).
-- Grain: one row per (source, file, raw_row) marked; raw_row is the 1-based data row (raw `_row`).
create table if not exists audit.raw_row_marks (
    source varchar,
    file varchar,
    raw_row bigint,
    run_id varchar,
    hidden boolean
)
