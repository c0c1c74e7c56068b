-- Table: audit.raw_files, the files of sources whose raw rows are read from the files themselves (Parquet):
-- raw.<source> is a view over them (sql/staging/raw_view.sql), not a copy in the warehouse.
-- Grain: one row per (source, file) kept. path: where the file is read (absolute); rows: its rows when it was
-- loaded (the count a later warning needs after the file is gone); run_id: the run that loaded it.
create table if not exists audit.raw_files (
    source varchar,
    file varchar,
    path varchar,
    rows bigint,
    loaded_at timestamptz,
    run_id varchar
)
