-- The customers whose identity map rows changed since the last run (added, removed or different: merges,
-- splits, new records, first_seen): the rows after against the rows before, row by row on the key. A row
-- that moved to another customer names both.
-- {{after}} and {{before}}: the same records' identity map rows now and as the last run left them; the
-- whole map (core.identity_map against core.identity_map_before, kept by tasks/dedupe/golden.py) when it
-- was built whole, the touched records' rows (_identity_after and _identity_before, both
-- core/identity_map_touched.sql, tasks/dedupe/touched.py) when only those were replaced.
-- Grain: one row per customer_id (of the new map, or of the old one: a customer merged away).
-- Key: customer_id. Parameters: none.
with identity as (
    select * from {{after}}
),

identity_before as (
    select * from {{before}}
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
