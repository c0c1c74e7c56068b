-- Behaviour of every customer as of one day.
-- Grain: one row per customer_id known as of $as_of. Key: customer_id.
-- Parameters: $as_of (date), $cutoff (exclusive end of the as_of day), $undated (a customer's records carry no time:
-- tasks.features.undated; false skips looking for their first facts). {{activity}}: the customers' activity
-- up to as_of (features.customer_activity, features/customer_activity.sql, brought to as_of before).
-- Purchases are orders with a positive net amount (features.orders.purchase). Customers without one
-- keep null recency_days, frequency and monetary (they are not RFM-scored). monetary is in the base
-- currency: orders in a currency without a rate count as purchases but add nothing to it.
-- Windows: "30d" means local dates in (as_of - 30 days, as_of]. Feedback comes from core.feedback.
-- Fragment {{shard}}: a condition on customer_id that keeps one shard's customers (tasks/shared/shards.py), `true`
-- for all of them.
with customers as (
    select * from core.customers where {{shard}}
),

orders as (
    select * from features.orders where {{shard}}
),

identity as (
    select * from core.identity_map where {{shard}}
),

customer_activity as (
    select * from {{activity}} where {{shard}}
),

feedback as (
    select
        identity.customer_id,
        feedback.score
    from core.feedback as feedback
    join identity
        on identity.source = feedback.record_source
        and identity.source_id = feedback.record_id
    where feedback.ts < $cutoff
),

purchases as (
    select
        customer_id,
        count(*) filter (where purchase) as frequency,
        coalesce(sum(net_amount), 0) as monetary,
        min(order_date) filter (where purchase) as first_purchase_date,
        max(order_date) filter (where purchase) as last_purchase_date,
        count(*) filter (where purchase and order_date > $as_of - 30) as payments_30d,
        count(*) filter (where purchase and order_date > $as_of - 90) as payments_90d,
        count(*) filter (where purchase and order_date > $as_of - 180) as payments_180d
    from orders
    group by customer_id
),

satisfaction as (
    select customer_id, avg(score) as avg_feedback_score, count(*) as feedback_count
    from feedback
    group by customer_id
),

-- A customer whose records carry no time (a customers file without sign-up or update times) is known since the
-- beginning (core.customers.first_seen is null, so point in time shows it on every day), but it is first seen,
-- as a feature, on its first transaction, event or feedback of any status (a cancelled or failed order too).
first_facts as (
    select
        identity.customer_id,
        cast(min(facts.first_seen) as date) as first_fact_date
    from core.fact_observations as facts
    join identity
        on identity.source = facts.record_source
        and identity.source_id = facts.record_id
    where $undated
        and facts.first_seen < $cutoff
        and identity.customer_id in (select customer_id from customers where first_seen is null)
    group by identity.customer_id
),

final as (
    select
        customers.customer_id,
        $as_of::date as as_of,
        case when purchases.frequency > 0 then $as_of::date - purchases.last_purchase_date end as recency_days,
        case when purchases.frequency > 0 then purchases.frequency end as frequency,
        case when purchases.frequency > 0 then purchases.monetary end as monetary,
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        coalesce(purchases.payments_30d, 0) as payments_30d,
        coalesce(purchases.payments_90d, 0) as payments_90d,
        coalesce(purchases.payments_180d, 0) as payments_180d,
        coalesce(customer_activity.sessions_30d, 0) as sessions_30d,
        coalesce(customer_activity.sessions_90d, 0) as sessions_90d,
        coalesce(customer_activity.sessions_180d, 0) as sessions_180d,
        coalesce(customer_activity.sessions_total, 0) as sessions_total,
        customer_activity.last_session_date,
        coalesce(customer_activity.session_minutes_90d, 0) as session_minutes_90d,
        customer_activity.favourite_game,
        coalesce(customer_activity.engagements_total, 0) as engagements_total,
        greatest(
            customer_activity.last_session_date,
            purchases.last_purchase_date,
            customer_activity.last_event_date
        ) as last_active_date,
        satisfaction.avg_feedback_score,
        coalesce(satisfaction.feedback_count, 0) as feedback_count,
        coalesce(cast(customers.first_seen as date), first_facts.first_fact_date) as first_seen_date,
        customers.marketing_consent
    from customers
    left join purchases using (customer_id)
    left join customer_activity using (customer_id)
    left join satisfaction using (customer_id)
    left join first_facts using (customer_id)
)

select * from final
