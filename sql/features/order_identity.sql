-- Table: features.order_identity, the identity map features.orders was last built with: the next run
-- recomputes the orders of the records whose customer changed since (features/order_identity_changes.sql).
-- Grain: one row per customer record. Key: source, source_id. Parameters: none.
with identity as (
    select * from core.identity_map
),

final as (
    select
        source,
        source_id,
        customer_id
    from identity
)

select * from final
