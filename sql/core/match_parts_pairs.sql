-- The candidate pairs of one shard of the matcher's pair shards (tasks/dedupe/shards.py): those whose left
-- record's node is the shard modulo the shards.
-- Grain: one row per candidate pair. Key: left, right (nodes, left < right).
-- Parameters: $shards (how many shards), $shard (which one, 0 to $shards - 1). Identifier {{pairs}}: the
-- run's work table of candidate pairs (core.match_parts_<id>).
with pairs as (
    select "left", "right" from {{pairs}}
),

final as (
    select "left", "right"
    from pairs
    where "left" % $shards = $shard
)

select * from final
order by "left", "right"
