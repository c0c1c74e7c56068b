-- segments.rule_memberships from the rule segments the segment stage's shards found (tasks/segment/shards.py).
-- Grain: one row per customer_id and rule segment. Key: customer_id, segment.
-- Parameters: none. Identifier {{parts}}: the run's `..._rules` work table. A shard computed twice (a
-- cancelled flow run that had started after all) added the same rows twice: each is kept once.
select distinct *
from {{parts}}
