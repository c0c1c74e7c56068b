-- Table: raw.<source>, created for a source's first batch with that batch's columns (lineage first).
-- Grain: one row per source row read (_file, _row). Key: _source, _file, _row.
-- Template filled by tasks/extract/raw.py: source names the table; columns are the columns of
-- staging/raw_batch over the first batch, as `describe` reports them ("name" TYPE, ...).
-- Not `create table ... as select`: DuckDB 2.0 hides from a transaction the rows it then batch-inserts
-- into a table that the same transaction created from an empty select (a first file with a header
-- and no rows would hide the next file's rows from staging).
create table if not exists raw."{{source}}" (
    {{columns}}
)
