-- The identity map rows of the touched records (tasks/dedupe/touched.py) as the last run left them, read
-- before they are replaced: the customers whose rows change are recomputed by the golden record.
-- Grain: one row per touched record in core.identity_map. Key: source, source_id. Parameters: none.
with identity as (
    select * from core.identity_map
),

touched as (
    select * from _touched
),

final as (
    select identity.*
    from identity
    where (identity.source, identity.source_id) in (select (record_source, record_id) from touched)
)

select * from final
