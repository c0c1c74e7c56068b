-- segments.clusters from the clusters the segment stage's shards assigned (tasks/segment/shards.py).
-- Grain: one row per customer_id. Key: customer_id.
-- Parameters: none. Identifier {{clusters}}: the shards' rows, each customer once (sql/ops/rows_from_shards.sql
-- over the run's `..._clusters` work table), with tree_agrees (whether the stored decision tree gives the
-- customer the same cluster), which counts the tree's fidelity and is not kept.
select * exclude (tree_agrees)
from {{clusters}}
