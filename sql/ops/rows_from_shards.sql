-- A stage's per-customer rows computed in shards (tasks/shared/shards.py), as one table: the customer
-- features (tasks/features), the predict scores (tasks/predict/shards.py), or the segments' clusters and
-- customer_segments rows (tasks/segment/shards.py).
-- Grain: one row per customer_id. Key: customer_id.
-- Parameters: none. Identifier {{parts}}: the run's work table (features.customer_features_parts_<id>,
-- predict.scores_parts_<id>, segments.segment_parts_<id>[_clusters]), where each shard's flow run (or the stage itself, for a shard no worker ran)
-- added its customers' rows. A shard computed twice (a cancelled flow run that had started after all) added
-- the same rows twice: each customer's row is kept once.
with parts as (
    select * from {{parts}}
),

final as (
    select *
    from parts
    qualify row_number() over (partition by customer_id) = 1
)

select * from final
