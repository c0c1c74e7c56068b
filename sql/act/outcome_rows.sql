-- The campaign outcomes of the day being computed with their audiences' labels (summary and report).
-- Grain: one row per (audience, window_days, metric). Parameters: none.
with outcomes as (
    select * from act.campaign_outcomes
),

audiences as (
    select * from act.audiences
),

final as (
    select
        outcomes.audience,
        audiences.label_zh,
        audiences.label_en,
        outcomes.window_days,
        outcomes.metric,
        outcomes.entries_from,
        outcomes.entries_to,
        outcomes.treated,
        outcomes.holdout,
        outcomes.treated_value,
        outcomes.holdout_value,
        outcomes.difference,
        outcomes.standard_error,
        outcomes.ci_low,
        outcomes.ci_high
    from outcomes
    left join audiences using (audience)
    order by audiences.position, outcomes.window_days, outcomes.metric
)

select * from final
