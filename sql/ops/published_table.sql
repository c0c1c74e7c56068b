-- Publish: create a published table with its model's columns and no rows, if it does not exist yet.
-- Grain: the model's (PUBLISHED_TABLES in tasks/publish/tables.py names each table's model).
-- Parameters: none. Filled in: table (the published table), columns (the model's columns and types,
-- as `describe` reports them: "name" TYPE, ...).
-- Not `create table ... as select ... limit 0`: DuckDB 2.0 hides from a transaction the rows it then
-- batch-inserts (a parallel insert of at least 90% of a row group) into a table that the same
-- transaction created from an empty select; count(*) sees them, scans return none, so the first
-- publish of a fresh warehouse exported empty files (tests/unit/publish/test_publish_first_day.py).
create table if not exists {{table}} (
    {{columns}}
)
