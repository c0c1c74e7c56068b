-- The customers whose features.customer_activity row can differ from the one kept: the customers (in today's
-- identity map) of the records whose features.record_activity rows were recomputed (_record_activity_dirty),
-- and both customers of every record whose customer changed, appeared or went since the kept rows were
-- summed (_activity_identity_moved: features/identity_moved.sql against features.activity_identity).
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
with identity as (
    select * from core.identity_map
),

moved as (
    select * from _activity_identity_moved
),

dirty_records as (
    select * from _record_activity_dirty
),

recomputed as (
    select identity.customer_id
    from identity
    semi join dirty_records
        on dirty_records.record_source = identity.source
        and dirty_records.record_id = identity.source_id
),

final as (
    select customer_before as customer_id from moved where customer_before is not null
    union
    select customer_now from moved where customer_now is not null
    union
    select customer_id from recomputed
)

select * from final
