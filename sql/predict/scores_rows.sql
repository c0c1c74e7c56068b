-- A frame of predict scores as rows of the score shards' work table (tasks/predict/shards.py): the empty
-- shape the work table is made from, or one shard's scores added to it.
-- Grain: one row per customer_id of the frame. Key: customer_id.
-- Parameters: none. Identifier {{scores}}: the temp table holding the frame (tasks/predict scores_frame).
select
    customer_id,
    churn_risk,
    p_alive,
    expected_purchases,
    predicted_value
from {{scores}}
