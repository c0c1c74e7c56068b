-- Published audience memberships: who was in each audience on each published day, held out or not.
-- Grain: one row per (as_of, audience, customer_id). Key: as_of, audience, customer_id. Parameters: none.
-- Defined here rather than from its model (act/audience_members.sql reads the previous day of this
-- table to carry entered_on forward). holdout: kept out of every outreach list and marketing
-- destination while in the audience; the campaign outcomes compare these members with the others.
create table if not exists published.audience_members (
    as_of date not null,
    audience varchar not null,
    customer_id varchar not null,
    holdout boolean not null,
    entered_on date not null,
    run_id varchar
)
