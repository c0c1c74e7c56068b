-- Audit: a customer id whose redirect does not end at an active customer (a broken or circular merge chain).
-- Grain: one row per offending customer_id. Parameters: none.
with redirects as (
    select * from core.customer_id_redirects
),

ids as (
    select * from core.customer_ids
),

final as (
    select
        redirects.customer_id,
        redirects.current_customer_id,
        ids.status
    from redirects
    left join ids
        on ids.customer_id = redirects.current_customer_id
    where ids.status is distinct from 'active'
)

select * from final
