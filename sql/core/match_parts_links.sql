-- The links the matcher's pair shards found (tasks/dedupe/shards.py), as one run scoring every pair would:
-- each shard's rows once (a shard computed twice, by a cancelled flow run that had started after all and by
-- the stage, added the same rows under two writers: the first writer's are kept), in pair order.
-- Grain: one row per candidate pair scored at or above the threshold. Key: left, right.
-- Parameters: none. Identifier {{links}}: the run's work table of links (core.match_parts_<id>_links).
with links as (
    select * from {{links}}
),

final as (
    select * exclude (shard, writer)
    from links
    qualify dense_rank() over (partition by shard order by writer) = 1
)

select * from final
order by "left", "right"
