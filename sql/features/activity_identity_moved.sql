-- The customer records whose customer changed, appeared or went since features.customer_activity was summed
-- (features.activity_identity, the identity map it was summed with, against today's): a merge, a split, a new
-- record, an erasure. Grain: one row per such record. Key: source, source_id. Parameters: none.
-- customer_before: the customer it had (null: a new record); customer_now: the one it has (null: gone).
with identity as (
    select * from core.identity_map
),

held as (
    select * from features.activity_identity
),

final as (
    select
        coalesce(identity.source, held.source) as source,
        coalesce(identity.source_id, held.source_id) as source_id,
        held.customer_id as customer_before,
        identity.customer_id as customer_now
    from identity
    full join held
        on held.source = identity.source
        and held.source_id = identity.source_id
    where held.customer_id is distinct from identity.customer_id
)

select * from final
