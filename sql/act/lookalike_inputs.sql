-- What the lookalike model sees of every customer of the day: numeric inputs only.
-- Grain: one row per customer_id of features.customer_features. Key: customer_id. Parameters: $as_of (date).
-- Counts, minutes and money are log1p'd (right-skewed); recency, inactivity and tenure are days as of
-- $as_of. A customer without a purchase has payer = 0 and null recency_days, log_frequency and
-- log_monetary; one never active has null inactive_days; one without feedback a null avg_feedback_score.
-- Nulls stay null: the model (tasks/act/lookalike.py) takes them as missing values. Refunds beyond
-- purchases (a negative monetary) count as no money. Ordered by customer_id: the model's seeded samples and
-- folds follow row order, and a sort here (parallel in DuckDB) costs less than one of the frame after it.
with features as (
    select * from features.customer_features
),

final as (
    select
        customer_id,
        cast(frequency is not null as double) as payer,
        cast(recency_days as double) as recency_days,
        ln(1 + frequency) as log_frequency,
        -- greatest() skips nulls: a non-payer's null monetary must not become 0
        case when monetary is not null then ln(1 + greatest(cast(monetary as double), 0)) end as log_monetary,
        ln(1 + payments_30d) as log_payments_30d,
        ln(1 + payments_90d) as log_payments_90d,
        ln(1 + payments_180d) as log_payments_180d,
        ln(1 + sessions_30d) as log_sessions_30d,
        ln(1 + sessions_90d) as log_sessions_90d,
        ln(1 + sessions_180d) as log_sessions_180d,
        ln(1 + sessions_total) as log_sessions_total,
        ln(1 + greatest(session_minutes_90d, 0)) as log_session_minutes_90d,
        ln(1 + engagements_total) as log_engagements_total,
        cast(avg_feedback_score as double) as avg_feedback_score,
        ln(1 + feedback_count) as log_feedback_count,
        cast($as_of::date - last_active_date as double) as inactive_days,
        cast($as_of::date - first_seen_date as double) as tenure_days
    from features
)

select * from final
order by customer_id
