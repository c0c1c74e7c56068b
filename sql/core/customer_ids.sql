-- Table: core.customer_ids, every customer id ever issued: its anchor record, status and the id it merged into.
-- Grain: one row per customer_id. Key: customer_id.
-- status is 'active' or 'merged' (merged_into: the surviving id); written by tasks/dedupe/ids.py.
create table if not exists core.customer_ids (
    customer_id varchar,
    anchor varchar,
    first_seen timestamptz,
    created_as_of date,
    status varchar,
    merged_into varchar,
    updated_as_of date
)
