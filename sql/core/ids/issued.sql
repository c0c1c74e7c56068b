-- The ids this forward run issues for the first time (into core.customer_ids).
-- Grain: one row per new customer_id. Key: customer_id. Parameters: $as_of.
-- Input: temp table _new_ids(customer_id, anchor, first_seen), written by tasks/dedupe/ids.py; an id
-- already in the registry (revived by ids/revive.sql) is left out.
with new_ids as (
    select * from _new_ids
),

registered as (
    select * from core.customer_ids
),

final as (
    select
        customer_id,
        anchor,
        first_seen,
        $as_of::date as created_as_of,
        'active' as status,
        null::varchar as merged_into,
        $as_of::date as updated_as_of
    from new_ids
    where customer_id not in (select customer_id from registered)
)

select * from final
