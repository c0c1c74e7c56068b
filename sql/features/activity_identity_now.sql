-- The features.activity_identity rows of the records whose customer changed or appeared
-- (_activity_identity_moved): their customer in today's identity map.
-- Grain: one row per such record. Key: source, source_id. Parameters: none.
with moved as (
    select * from _activity_identity_moved
),

final as (
    select
        source,
        source_id,
        customer_now as customer_id
    from moved
    where customer_now is not null
)

select * from final
