-- The registry rows (core.customer_ids) of some ids: those the touched records held (tasks/dedupe/ids.py).
-- Grain: one row per customer_id. Key: customer_id. Parameters: $ids (varchar[]).
with registry as (
    select * from core.customer_ids
),

final as (
    select * from registry
    where customer_id in (select unnest($ids::varchar[]))
)

select * from final
