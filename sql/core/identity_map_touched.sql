-- The identity map rows of the touched records (tasks/dedupe/touched.py): read before they are replaced
-- (as the last run left them) and after, so that core/identity_changed names the customers whose rows
-- changed, whose golden record is recomputed.
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
