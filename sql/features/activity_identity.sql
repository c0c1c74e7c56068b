-- The identity map features.customer_activity was summed with: a later run compares it with the day's
-- (features/activity_customers_dirty.sql) to find the customers whose records changed.
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
