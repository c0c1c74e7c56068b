-- Table: staging.customers' version columns (the table itself: staging/staging_table). A customer record
-- keeps every version its sources gave: valid from valid_from until valid_to (the next version's
-- valid_from; null: the current version).
-- Grain: one row per staged version (source, _file, _row). Key: source, _file, _row. Parameters: none.
-- valid_from: the version's updated_at when its source maps updated_at (a row without one: its
-- signup_ts, else its load time), else the time its row was loaded (tasks.extract.duplicates).
-- Rows staged before versions were kept (one per record) get their updated_at, else signup_ts, once.
alter table staging.customers add column if not exists valid_from timestamptz;

alter table staging.customers add column if not exists valid_to timestamptz;

update staging.customers
set valid_from = coalesce(updated_at, signup_ts)
where valid_from is null and coalesce(updated_at, signup_ts) is not null and valid_to is null;
