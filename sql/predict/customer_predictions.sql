-- Churn risk and future value of every customer scored on one as_of.
-- Grain: one row per customer_id with a purchase or session up to as_of. Key: customer_id.
-- Parameters: $as_of (date), $horizon (days), $high and $medium (churn-risk thresholds of the tiers).
-- Reads _scores (the predict stage's model outputs). churn_risk is the probability, from the model the
-- backtests chose, of no activity (purchase, or session: predict.churn_activity) in the horizon; null
-- for a customer it does not apply to (no purchase yet, for purchase churn). p_alive, expected_purchases
-- (purchase days in the horizon) and predicted_value (their spend, base currency) are the
-- buy-till-you-die models' (BG/NBD, Gamma-Gamma), for customers with a purchase. The tier is taken
-- from the unrounded risk; the published figures are rounded (risk and P(alive) to 4 decimals).
with scores as (
    select * from _scores
),

final as (
    select
        $as_of::date as as_of,
        customer_id,
        round(churn_risk, 4) as churn_risk,
        case
            when churn_risk >= $high then 'high'
            when churn_risk >= $medium then 'medium'
            when churn_risk is not null then 'low'
        end as risk_tier,
        case
            when churn_risk >= $high then '高'
            when churn_risk >= $medium then '中'
            when churn_risk is not null then '低'
        end as risk_tier_zh,
        round(p_alive, 4) as p_alive,
        round(expected_purchases, 3) as expected_purchases,
        round(predicted_value, 2) as predicted_value,
        $horizon::integer as horizon_days
    from scores
)

select * from final
