-- Behaviour of every customer as of one day.
-- Grain: one row per customer_id known as of $as_of. Key: customer_id.
-- Parameters: $as_of (date), $cutoff (exclusive end of the as_of day), $session_types (list of event_type).
-- Purchases are orders with a positive net amount (features.orders.purchase). Customers without one
-- keep null recency_days, frequency and monetary (they are not RFM-scored). monetary is in the base
-- currency: orders in a currency without a rate count as purchases but add nothing to it.
-- Windows: "30d" means local dates in (as_of - 30 days, as_of].
-- Activity comes from the daily roll-up features.daily_activity (the days up to as_of: the events before
-- $cutoff), summed per record first and then per customer (core.identity_map joins one row per record);
-- feedback from core.feedback. Sums of the roll-up's events (cast back to bigint) count events.
with customers as (
    select * from core.customers
),

orders as (
    select * from features.orders
),

identity as (
    select * from core.identity_map
),

activity as (
    -- the roll-up rows up to as_of: each counts the events of its record, day, type and category
    select
        *,
        event_type in (select unnest($session_types::varchar[])) as is_session
    from features.daily_activity
    where activity_date <= $as_of
),

record_activity as (
    -- per record first: the identity map then joins one row per record, not one per roll-up row
    select
        record_source,
        record_id,
        sum(events) filter (where is_session and activity_date > $as_of - 30) as sessions_30d,
        sum(events) filter (where is_session and activity_date > $as_of - 90) as sessions_90d,
        sum(events) filter (where is_session and activity_date > $as_of - 180) as sessions_180d,
        sum(events) filter (where is_session) as sessions_total,
        max(activity_date) filter (where is_session) as last_session_date,
        sum(duration_s) filter (where is_session and activity_date > $as_of - 90) as session_seconds_90d,
        sum(events) filter (where not is_session) as engagements_total,
        max(activity_date) as last_event_date
    from activity
    group by record_source, record_id
),

record_plays as (
    select
        record_source,
        record_id,
        category,
        sum(events) as plays
    from activity
    where is_session and category is not null
    group by record_source, record_id, category
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

customer_activity as (
    -- sums of the records' sums (cast back to bigint: a sum of bigints is a hugeint)
    select
        identity.customer_id,
        cast(sum(record_activity.sessions_30d) as bigint) as sessions_30d,
        cast(sum(record_activity.sessions_90d) as bigint) as sessions_90d,
        cast(sum(record_activity.sessions_180d) as bigint) as sessions_180d,
        cast(sum(record_activity.sessions_total) as bigint) as sessions_total,
        max(record_activity.last_session_date) as last_session_date,
        sum(record_activity.session_seconds_90d) / 60.0 as session_minutes_90d,
        cast(sum(record_activity.engagements_total) as bigint) as engagements_total,
        max(record_activity.last_event_date) as last_event_date
    from record_activity
    join identity
        on identity.source = record_activity.record_source
        and identity.source_id = record_activity.record_id
    group by identity.customer_id
),

favourite as (
    -- the most played category; ties go to the alphabetically first
    select
        customer_id,
        first(category order by plays desc, category asc) as favourite_game
    from (
        select
            identity.customer_id,
            record_plays.category,
            sum(record_plays.plays) as plays
        from record_plays
        join identity
            on identity.source = record_plays.record_source
            and identity.source_id = record_plays.record_id
        group by identity.customer_id, record_plays.category
    )
    group by customer_id
),

satisfaction as (
    select customer_id, avg(score) as avg_feedback_score, count(*) as feedback_count
    from feedback
    group by customer_id
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
        favourite.favourite_game,
        coalesce(customer_activity.engagements_total, 0) as engagements_total,
        greatest(
            customer_activity.last_session_date,
            purchases.last_purchase_date,
            customer_activity.last_event_date
        ) as last_active_date,
        satisfaction.avg_feedback_score,
        coalesce(satisfaction.feedback_count, 0) as feedback_count,
        cast(customers.first_seen as date) as first_seen_date,
        customers.marketing_consent
    from customers
    left join purchases using (customer_id)
    left join customer_activity using (customer_id)
    left join favourite using (customer_id)
    left join satisfaction using (customer_id)
)

select * from final
