-- The most shared key values among some records: how a suspiciously large cluster is described.
-- Grain: one row per shared (key, value) of the members, the $limit most shared. Key: key, value.
-- Parameters: $members (their nodes), $limit. Input: _link_links, _link_shared (graph/links.sql, shared.sql).
with links as (
    select * from _link_links
),

shared as (
    select * from _link_shared
),

final as (
    select
        shared.key,
        shared.value,
        count(*) as records
    from links
    join shared using (key_node)
    where links.node in (select unnest($members::bigint[]))
    group by all
)

select * from final
order by records desc, key, value
limit $limit
