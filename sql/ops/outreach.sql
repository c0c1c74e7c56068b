-- Published outreach lists: who was offered what, on which channel, on each published day.
-- Grain: one row per (as_of, customer_id). Key: as_of, customer_id. Parameters: none.
-- Defined here rather than from its model (published/outreach.sql reads the earlier days of this
-- table: one offer per customer per offer window). No address: export files join it from the golden
-- record when they are written, so erasing a person leaves none in the history.
create table if not exists published.outreach (
    as_of date not null,
    customer_id varchar not null,
    audience varchar not null,
    priority integer not null,
    channel varchar not null,
    run_id varchar
)
