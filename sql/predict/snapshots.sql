-- What each customer looked like at each snapshot, and what they did in the horizon after it.
-- Grain: one row per snapshot and customer_id with a purchase or a session up to the snapshot's day.
-- Key: snapshot, customer_id. Parameters: $as_of (date), $horizon (days per period), $snapshots (list of
-- periods back: 0 is as_of itself, k is the day as_of - k * horizon), $sample_share and $seed: the past
-- snapshots (k > 0, for training and backtests) keep only a seeded share of the customers, the same
-- customers at every snapshot; snapshot 0, which is scored, keeps everyone.
-- Reads _activity_periods (sql/predict/activity_periods.sql). A snapshot sees only the periods up to
-- its day; "last" is the horizon ending with the snapshot's day, "previous" the horizon before it.
-- The outcome columns (future_*) are the horizon after the snapshot, null at snapshot 0 (not yet
-- happened). For the buy-till-you-die models (time in days): repeat_purchase_days is x, purchase_span_days
-- is t_x and purchase_age_days is T (all null without a purchase); repeat_spend is the average spend of a
-- repeat purchase day (the first day left out, as Gamma-Gamma wants) over the repeat days whose spend is
-- known, null if none is.
with periods as (
    -- sampled: in the seeded share of customers the past snapshots keep (all of them at snapshot 0)
    select
        *,
        hash(customer_id, $seed) % 1000000 < $sample_share * 1000000 as sampled
    from _activity_periods
),

customers as (
    select
        customer_id,
        cast(first_seen as date) as first_seen_date
    from core.customers
),

snapshots as (
    select unnest($snapshots::integer[]) as snapshot
),

history as (
    select
        snapshots.snapshot,
        periods.customer_id,
        sum(periods.purchase_days) as purchase_days,
        sum(periods.purchases) as purchases,
        sum(periods.spend) as spend,
        sum(periods.priced_purchase_days) as priced_purchase_days,
        min(periods.first_purchase_date) as first_purchase_date,
        max(periods.last_purchase_date) as last_purchase_date,
        arg_min_null(periods.first_day_spend, periods.first_purchase_date) as first_day_spend,
        coalesce(sum(periods.purchases) filter (where periods.period = snapshots.snapshot), 0) as purchases_last,
        coalesce(sum(periods.purchases) filter (where periods.period = snapshots.snapshot + 1), 0)
            as purchases_previous,
        coalesce(sum(periods.spend) filter (where periods.period = snapshots.snapshot), 0) as spend_last,
        coalesce(sum(periods.spend) filter (where periods.period = snapshots.snapshot + 1), 0) as spend_previous,
        sum(periods.sessions) as sessions,
        coalesce(sum(periods.sessions) filter (where periods.period = snapshots.snapshot), 0) as sessions_last,
        coalesce(sum(periods.sessions) filter (where periods.period = snapshots.snapshot + 1), 0)
            as sessions_previous,
        coalesce(sum(periods.session_minutes) filter (where periods.period = snapshots.snapshot), 0)
            as session_minutes_last,
        max(periods.last_session_date) as last_session_date,
        first(periods.favourite_game) filter (where periods.period = snapshots.snapshot) as favourite_game
    from periods
    join snapshots
        on periods.period >= snapshots.snapshot
        and (snapshots.snapshot = 0 or periods.sampled)
    group by snapshots.snapshot, periods.customer_id
),

outcome as (
    select
        snapshots.snapshot,
        periods.customer_id,
        periods.purchases,
        periods.purchase_days,
        periods.spend,
        periods.sessions
    from periods
    join snapshots
        on periods.period = snapshots.snapshot - 1
        and periods.sampled
),

final as (
    select
        history.snapshot,
        $as_of::date - history.snapshot * $horizon as snapshot_date,
        history.customer_id,
        snapshot_date - history.last_purchase_date as recency_days,
        history.purchases,
        history.purchase_days,
        history.spend,
        history.spend / nullif(history.purchases, 0) as spend_per_purchase,
        history.purchases_last,
        history.purchases_previous,
        history.spend_last,
        history.spend_previous,
        snapshot_date - history.last_session_date as session_recency_days,
        history.sessions,
        history.sessions_last,
        history.sessions_previous,
        history.session_minutes_last,
        history.favourite_game,
        -- days since first seen: 0 if first seen after the snapshot's day, null if never known (greatest
        -- ignores a null, so greatest(snapshot_date - first_seen_date, 0) would say 0)
        greatest(snapshot_date, customers.first_seen_date) - customers.first_seen_date as tenure_days,
        -- rates per 30 days since the first purchase and since the customer was first seen
        history.purchase_days * 30.0 / (snapshot_date - history.first_purchase_date + 1) as purchase_rate_30d,
        history.sessions * 30.0 / (tenure_days + 1) as session_rate_30d,
        nullif(history.purchase_days, 0) - 1 as repeat_purchase_days,
        history.last_purchase_date - history.first_purchase_date as purchase_span_days,
        snapshot_date - history.first_purchase_date as purchase_age_days,
        -- over the repeat days with a known spend (a day with an order without a rate has none)
        case
            when history.purchase_days > 1
                then (history.spend - coalesce(history.first_day_spend, 0))
                    / nullif(history.priced_purchase_days - (history.first_day_spend is not null)::integer, 0)
        end as repeat_spend,
        case when history.snapshot > 0 then coalesce(outcome.purchases, 0) end as future_purchases,
        case when history.snapshot > 0 then coalesce(outcome.purchase_days, 0) end as future_purchase_days,
        case when history.snapshot > 0 then coalesce(outcome.spend, 0) end as future_spend,
        case when history.snapshot > 0 then coalesce(outcome.sessions, 0) end as future_sessions
    from history
    left join outcome using (snapshot, customer_id)
    left join customers using (customer_id)
)

select * from final
