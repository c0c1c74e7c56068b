-- A published day's memberships, kept aside before a backfill computes the day again
-- (tasks/publish/republish.py); replaces what a killed backfill kept.
-- Grain: one row per customer_id published on $as_of. Key: customer_id.
-- Parameters: $as_of, $backfill_id (the request keeping it). Filled in: {{columns}} (the membership columns the
-- published table has).
create or replace table published.republished_day as
select
    $backfill_id::varchar as backfill_id,
    $as_of::date as as_of,
    customer_id,
    {{columns}}
from published.customer_segments
where as_of = $as_of
