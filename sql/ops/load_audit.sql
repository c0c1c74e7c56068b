-- Table: audit.load_audit, per file read: rows read = staged + quarantined + duplicates dropped + erased + filtered.
-- Grain: one row per (run_id, source, file) read in a run. Written by tasks/extract.
-- rows_unattributed: of rows_staged, the rows that say nobody's they are (no customer_ref, email, phone or
-- device_id), staged apart in staging.unattributed_<kind>; not bad rows (earlier such rows were quarantined).
-- rows_erased: rows of people erased earlier, read again and dropped in the same load (tasks/extract/erased.py;
-- earlier loads counted them as staged). rows_filtered: rows the source's `where` left out (in raw, not staged). Columns added after the table was first defined are also added by an
-- `alter` below, for the warehouses created before them (their earlier loads get the default, 0).
create table if not exists audit.load_audit (
    run_id varchar,
    source varchar,
    file varchar,
    file_hash varchar,
    rows_read bigint,
    rows_staged bigint,
    rows_quarantined bigint,
    duplicates_dropped bigint,
    seconds double,  -- the source's whole load (its files are checked and staged together): the same per file
    loaded_at timestamptz,
    rows_unattributed bigint default 0,
    rows_erased bigint default 0,
    rows_filtered bigint default 0
);

alter table audit.load_audit add column if not exists rows_unattributed bigint default 0;
alter table audit.load_audit add column if not exists rows_erased bigint default 0;
alter table audit.load_audit add column if not exists rows_filtered bigint default 0;
