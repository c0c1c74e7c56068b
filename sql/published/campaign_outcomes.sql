-- Rows to publish for one as_of: the campaign outcomes measured that day (act.campaign_outcomes).
-- Grain: one row per (audience, window_days, metric). Key: as_of, audience, window_days, metric.
-- Parameters: $as_of, $run_id.
with outcomes as (
    select * from act.campaign_outcomes
),

final as (
    select
        $as_of::date as as_of,
        outcomes.*,
        $run_id as run_id
    from outcomes
)

select * from final
