-- The in-game (member) id of each customer: their record id in the first customers source, in config
-- order, that has one (the id the game or app back end knows them by).
-- Grain: one row per customer_id with a customers record. Key: customer_id.
-- Parameters: $member_sources (customers sources, in config order).
with identity as (
    select * from core.identity_map
),

final as (
    select
        customer_id,
        arg_min(source_id, list_position($member_sources::varchar[], source)) as member_id
    from identity
    where list_position($member_sources::varchar[], source) is not null
    group by customer_id
)

select * from final
