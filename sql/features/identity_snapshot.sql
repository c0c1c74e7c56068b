-- The identity map a kept table was computed with: features.order_identity (features.orders) and
-- features.activity_identity (features.customer_activity). The next run finds the records whose customer
-- changed since (features/identity_moved.sql) and recomputes what they touch.
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
