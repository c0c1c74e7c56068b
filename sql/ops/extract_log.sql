-- Table: audit.extract_log, what each source load did in each run (tasks.extract.SourceLoad).
-- Grain: one row per (run_id, source). status: loaded | unchanged | restaged.
-- rows_unattributed: of rows_staged, the rows staged apart without a customer reference. rows_erased: rows
-- of people erased earlier, read again and dropped in the same load. rows_filtered: of rows_read, the rows the
-- source's `where` left out. Columns added after the table was first
-- defined are also added by an `alter` below, for older warehouses.
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
    loaded_at timestamptz,
    rows_unattributed bigint default 0,
    rows_erased bigint default 0,
    rows_filtered bigint default 0
);

alter table audit.extract_log add column if not exists rows_unattributed bigint default 0;
alter table audit.extract_log add column if not exists rows_erased bigint default 0;
alter table audit.extract_log add column if not exists rows_filtered bigint default 0;
