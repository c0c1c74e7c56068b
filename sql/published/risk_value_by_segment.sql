-- Customers, churn risk and predicted value of one published day by risk tier and by RFM segment (the
-- report's risk and value charts).
-- Grain: one row per (scheme, segment): scheme 'risk' (risk_tier; '(no risk score)' for customers no
-- churn model scored) or 'rfm' (rfm_segment; '(not scored)' without one). Key: scheme, segment.
-- Parameters: $as_of. Template filled by tasks/publish/report.py: {{value_column}} is the day's predicted
-- value column, predicted_value_<predict.horizon_days>d (predicted_value_90d), checked against the table.
-- predicted_value is the sum over the segment's customers with a forecast (valued), base currency.
with segments as (
    select
        rfm_segment,
        rfm_segment_zh,
        risk_tier,
        risk_tier_zh,
        churn_risk,
        {{value_column}} as predicted_value
    from published.customer_segments
    where as_of = $as_of
),

by_tier as (
    select
        'risk' as scheme,
        coalesce(risk_tier, '(no risk score)') as segment,
        any_value(risk_tier_zh) as segment_zh,
        count(*) as customers,
        count(churn_risk) as scored,
        round(avg(churn_risk), 4) as mean_churn_risk,
        count(predicted_value) as valued,
        round(sum(predicted_value), 2) as predicted_value
    from segments
    group by all
),

by_segment as (
    select
        'rfm' as scheme,
        coalesce(rfm_segment, '(not scored)') as segment,
        any_value(rfm_segment_zh) as segment_zh,
        count(*) as customers,
        count(churn_risk) as scored,
        round(avg(churn_risk), 4) as mean_churn_risk,
        count(predicted_value) as valued,
        round(sum(predicted_value), 2) as predicted_value
    from segments
    group by all
),

rows as (
    select * from by_tier
    union all
    select * from by_segment
),

final as (
    select * from rows
    order by
        scheme desc,  -- risk tiers first, high to low, then RFM segments by predicted value
        list_position(['high', 'medium', 'low'], segment) nulls last,
        predicted_value desc nulls last,
        customers desc,
        segment
)

select * from final
