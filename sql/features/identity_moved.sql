-- The customer records whose customer changed since a kept table was computed: merged, split, new in the
-- identity map or gone from it. Grain: one row per such record. Key: source, source_id. Parameters: none.
-- {{held}}: the identity map the kept table was computed with (features/identity_snapshot.sql), compared
-- with core.identity_map (today's). customer_before: the customer it had (null: a new record);
-- customer_now: the one it has (null: gone).
with held as (
    select * from {{held}}
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
        source_id,
        held.customer_id as customer_before,
        current.customer_id as customer_now
    from held
    full join current using (source, source_id)
    where held.customer_id is distinct from current.customer_id
)

select * from final
