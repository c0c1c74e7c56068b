-- The predict scores computed in shards (tasks/predict/shards.py), as one frame for
-- predict.customer_predictions.
-- Grain: one row per customer_id. Key: customer_id.
-- Parameters: none. Identifier {{parts}}: the run's work table (predict.scores_parts_<id>), where each
-- shard's flow run (or the predict stage itself, for a shard no worker ran) added its customers' scores. A
-- shard computed twice (a cancelled flow run that had started after all) added the same rows twice: each
-- customer's row is kept once.
with parts as (
    select * from {{parts}}
),

final as (
    select *
    from parts
    qualify row_number() over (partition by customer_id) = 1
)

select * from final
order by customer_id
