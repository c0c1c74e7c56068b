-- Audit: a customer record mapped to more than one customer, or to none.
-- Grain: one row per offending (source, source_id). Parameters: none.
with identity as (
    select * from core.identity_map
),

final as (
    select
        source,
        source_id,
        count(*) as rows,
        count(customer_id) as customers
    from identity
    group by source, source_id
    having count(*) <> 1 or count(customer_id) <> 1
)

select * from final
