-- Every customer id ever issued, and the id it stands for now (a view).
-- Grain: one row per customer_id in core.customer_ids. Key: customer_id. Parameters: none.
-- An active id stands for itself; a merged id follows its chain of merges (A -> B -> C) to the
-- active survivor. Join earlier published rows on customer_id to read them under today's id.
with recursive chain (customer_id, current_customer_id, hops) as (
    select
        customer_id,
        customer_id,
        0
    from core.customer_ids
    union all
    select
        chain.customer_id,
        ids.merged_into,
        chain.hops + 1
    from chain
    join core.customer_ids as ids
        on ids.customer_id = chain.current_customer_id
    where ids.status = 'merged'
        and ids.merged_into is not null
        and chain.hops < 100
),

final as (
    select
        customer_id,
        arg_max(current_customer_id, hops) as current_customer_id,
        max(hops) as hops
    from chain
    group by customer_id
)

select * from final
