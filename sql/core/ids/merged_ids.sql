-- The registry's merged ids (core.customer_ids), whose chains of merges name the id a record now stands for.
-- Grain: one row per merged customer_id. Key: customer_id. Parameters: none.
with registry as (
    select * from core.customer_ids
),

final as (
    select * from registry
    where status = 'merged'
)

select * from final
