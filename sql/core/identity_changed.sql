-- The customers whose identity map rows changed since the last run (added, removed or different: merges,
-- splits, new records, first_seen), when the map was built whole: core.identity_map against its last
-- version (core.identity_map_before, kept by tasks/dedupe/golden.py), row by row on its key. A row that
-- moved to another customer names both.
-- Grain: one row per customer_id (of the new map, or of the old one: a customer merged away).
-- Key: customer_id. Parameters: none.
with identity as (
    select * from core.identity_map
),

identity_before as (
    select * from core.identity_map_before
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
