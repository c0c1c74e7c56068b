-- The links the matcher's pair shards' flow runs found (tasks/dedupe/shards.py): the rows of the shards
-- named, each shard's once (should one have been written twice, by two runs of it, both wrote the same rows:
-- those of one writer are kept).
-- Grain: one row per candidate pair scored at or above the threshold. Key: left, right.
-- Parameters: $shards (the shards whose flow runs computed them, a list). Identifier {{links}}: the run's work
-- table of links (core.match_parts_<id>_links).
with links as (
    select * from {{links}}
    where list_contains($shards, shard)
),

final as (
    select * exclude (shard, writer)
    from links
    qualify dense_rank() over (partition by shard order by writer) = 1
)

select * from final
order by "left", "right"
