-- The in-game (member) id of each customer: their record id in the first customers source, in config
-- order, that has one (the id the game or app back end knows them by; of several, the least).
-- Grain: one row per customer_id with a customers record. Key: customer_id.
-- Parameters: $member_sources (customers sources, in config order).
with identity as (
    select * from core.identity_map
),

final as (
    select
        customer_id,
        -- several records of that source (one person's two accounts, merged): the least source_id, so that a
        -- rerun gives the same id (arg_min keeps any one of its ties)
        arg_min(source_id, (list_position($member_sources::varchar[], source), source_id)) as member_id
    from identity
    where list_position($member_sources::varchar[], source) is not null
    group by customer_id
)

select * from final
