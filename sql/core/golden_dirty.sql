-- The customers whose golden record must be recomputed: those with an identity map row that changed
-- (_identity_changed: core/identity_changed.sql, over the whole map or the touched records' rows when the
-- map was updated in place, tasks/dedupe/touched.py), and those with a customer record or a record observation that changed
-- since the last run (_changed_records: core/changed_records.sql). Every other customer's inputs are the
-- same rows: its golden record is.
-- Grain: one row per customer_id (of the new map, or of the old one: a customer merged away). Key: customer_id.
-- Parameters: none.
with identity as (
    select * from core.identity_map
),

identity_changed as (
    select * from _identity_changed
),

changed as (
    select * from _changed_records
),

final as (
    select customer_id from identity_changed
    where customer_id is not null
    union
    select identity.customer_id
    from identity
    join changed
        on identity.source = changed.source
        and identity.source_id = changed.source_id
)

select * from final
