-- The customer records whose customer changed since features.orders was last built: merged, split,
-- new in the identity map or gone from it. Their orders are recomputed.
-- Grain: one row per such record. Key: source, source_id. Parameters: none; reads
-- features.order_identity (the map the orders were built with) and core.identity_map (today's).
with held as (
    select * from features.order_identity
),

current as (
    select
        source,
        source_id,
        customer_id
    from core.identity_map
),

final as (
    select
        source,
        source_id
    from held
    full join current using (source, source_id)
    where held.customer_id is distinct from current.customer_id
)

select * from final
