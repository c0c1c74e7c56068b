-- Who entered or exited each segment on one published day, against the previous published day.
-- Grain: one row per (scheme, segment, customer_id) that changed. Key: as_of, scheme, segment, customer_id.
-- Parameters: $as_of, $previous (the previous published as_of; null on the first publish: all entered).
-- Reads _memberships_now and _memberships_before (segment_memberships of both days, built by publish
-- for the customers whose segment columns differ between them: moved_customers.sql; the others stay put).
with now as (
    select * from _memberships_now
),

before as (
    select * from _memberships_before
),

entered as (
    select scheme, segment, customer_id, 'entered' as change from now
    anti join before using (scheme, segment, customer_id)
),

exited as (
    select scheme, segment, customer_id, 'exited' as change from before
    anti join now using (scheme, segment, customer_id)
),

final as (
    select
        cast($as_of as date) as as_of,
        scheme,
        segment,
        customer_id,
        change,
        cast($previous as date) as previous_as_of
    from (select * from entered union all select * from exited)
)

select * from final
