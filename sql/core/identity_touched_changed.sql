-- The customers whose identity map rows changed, when only the touched records' rows were replaced: their
-- rows before (_identity_before, core/identity_map_touched.sql) against after, row by row on the key. A row
-- that moved to another customer names both.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
with identity as (
    select * from core.identity_map
    where (source, source_id) in (select (record_source, record_id) from _touched)
),

identity_before as (
    select * from _identity_before
),

changed as (
    select unnest([identity.customer_id, identity_before.customer_id]) as customer_id
    from identity
    full join identity_before
        on identity.source = identity_before.source
        and identity.source_id = identity_before.source_id
    where identity is distinct from identity_before
),

final as (
    select distinct customer_id
    from changed
    where customer_id is not null
)

select * from final
