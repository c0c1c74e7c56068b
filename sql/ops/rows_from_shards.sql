-- A stage's per-customer rows computed in shards (tasks/shared/shards.py), as one table: the customer
-- features (tasks/features) or the predict scores (tasks/predict/shards.py).
-- Grain: one row per customer_id. Key: customer_id.
-- Parameters: none. Identifier {{parts}}: the run's work table (features.customer_features_parts_<id>,
-- predict.scores_parts_<id>), where each shard's flow run (or the stage itself, for a shard no worker ran)
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
