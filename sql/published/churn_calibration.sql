-- Calibration of each churn model in the backtests of one as_of, its cutoffs pooled (the report's
-- calibration chart): the customers of each decile of predicted risk, their mean predicted churn risk
-- and the share that churned.
-- Grain: one row per (model, decile). Key: model, decile. Parameters: $as_of.
with calibration as (
    select * from predict.calibration
    where as_of = $as_of
),

final as (
    select
        model,
        decile,
        sum(customers) as customers,
        sum(mean_predicted * customers) / sum(customers) as mean_predicted,
        sum(observed_rate * customers) / sum(customers) as observed_rate
    from calibration
    group by all
    order by model, decile
)

select * from final
