-- Erase: every customer id of the person a customer id names: the id it redirects to now and every id
-- merged into that one (core.customer_id_redirects follows chains of merges).
-- Grain: one row per customer_id. Key: customer_id. Parameters: $customer_id (any id of the person, a merged
-- one too). No row: the id was never issued.
with redirects as (
    select * from core.customer_id_redirects
),

requested as (
    select redirects.current_customer_id
    from redirects
    where redirects.customer_id = $customer_id
),

final as (
    select distinct redirects.customer_id
    from redirects
    join requested
        on requested.current_customer_id = redirects.current_customer_id
)

select * from final
