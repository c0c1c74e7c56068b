-- Match key values seen on more than one record, and on how many (each value counted once).
-- Grain: one row per (key, value) of two records or more. Key: key, value. Parameters: none.
-- Input: _link_edges (graph/edges.sql).
with edges as (
    select * from _link_edges
),

final as (
    select
        key,
        value,
        count(*) as records
    from edges
    group by key, value
    having count(*) > 1
)

select * from final
