-- The prepared records one shard of the matcher's pair shards compares (tasks/dedupe/shards.py): those its
-- candidate pairs name, as the dedupe stage prepared them.
-- Grain: one row per record (node). Key: node.
-- Parameters: $shards, $shard (as in core/match_parts_pairs). Identifiers {{pairs}}: the run's work table of
-- candidate pairs (core.match_parts_<id>); {{records}}: its prepared records (core.match_parts_<id>_records).
with pairs as (
    select "left", "right" from {{pairs}}
    where "left" % $shards = $shard
),

nodes as (
    select "left" as node from pairs
    union
    select "right" as node from pairs
),

final as (
    select records.*
    from {{records}} as records
    semi join nodes using (node)
)

select * from final
order by node
