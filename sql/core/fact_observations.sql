-- Table: core.fact_observations, which match keys each record was seen with in transactions, events and
-- feedback, and since when, over every staged fact whatever its time: core/record_observations.sql reads
-- it through the cutoff. Kept up to date file by file (tasks/dedupe/observations.py).
-- Grain: one row per (record_source, record_id, email_norm, phone_norm, device_id). Parameters: none.
-- first_seen: the earliest timestamp of the group's rows, null when one of them has none. So the groups
-- seen before a cutoff are those with first_seen null or before it, with this first_seen (the earliest
-- row is before the cutoff whenever one is).
create table if not exists core.fact_observations (
    record_source varchar,
    record_id varchar,
    email_norm varchar,
    phone_norm varchar,
    device_id varchar,
    first_seen timestamptz
)
