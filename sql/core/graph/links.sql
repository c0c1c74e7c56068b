-- Each record's links to the shared key values it has: the edges of the graph and the exact rules.
-- Grain: one row per (node, key_node). Key: node, key_node. Parameters: none.
-- Input: _link_edges (graph/edges.sql), _link_shared (graph/shared.sql).
with edges as (
    select * from _link_edges
),

shared as (
    select * from _link_shared
),

final as (
    select
        edges.node,
        edges.key,
        shared.key_node
    from edges
    join shared using (key, value)
)

select * from final
