-- What the last dedupe run made of two customer records: the customer of each, and whether a
-- probabilistic link joins them (null: none; false: a link the one-to-one constraint left out).
-- Grain: one row. Key: none. Parameters: $source_a, $id_a, $source_b, $id_b.
with identity_map as (
    select * from core.identity_map
),

links as (
    select * from core.match_links
),

pair_links as (
    select used
    from links
    where (source_a = $source_a and id_a = $id_a and source_b = $source_b and id_b = $id_b)
        or (source_a = $source_b and id_a = $id_b and source_b = $source_a and id_b = $id_a)
),

final as (
    select
        (
            select any_value(customer_id)
            from identity_map
            where source = $source_a and source_id = $id_a
        ) as customer_a,
        (
            select any_value(customer_id)
            from identity_map
            where source = $source_b and source_id = $id_b
        ) as customer_b,
        (select bool_or(used) from pair_links) as link_used
)

select * from final
