-- The inputs of customer clustering: every customer's model features as of one day.
-- Grain: one row per customer_id of features.customer_features, ordered by customer_id. Key: customer_id.
-- Parameters: $as_of (date), $inactive_cap (days). {{shard}}: the customers kept (tasks/shared/shards.py;
-- `true` for all).
-- The columns after customer_id are tasks.segment.clusters.FEATURES, in that order. inactive_days: days
-- since the last purchase, session or event (since first seen when there is none), capped at
-- $inactive_cap, so every customer, with or without a purchase, can be clustered.
-- The order is part of the model: the fit samples rows by position.
with features as (
    select * from features.customer_features
    where {{shard}}
),

final as (
    select
        customer_id,
        least(
            coalesce($as_of::date - last_active_date, $as_of::date - first_seen_date, $inactive_cap),
            $inactive_cap
        ) as inactive_days,
        frequency,
        monetary,
        payments_90d,
        sessions_90d,
        session_minutes_90d
    from features
)

select * from final
order by customer_id
