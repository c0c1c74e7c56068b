-- Campaign outcomes: for each audience and window, the members who entered it and were contacted
-- (treated) against those held out, on conversion, revenue per member and retention.
-- Grain: one row per (audience, window_days, metric) with entries whose window has ended.
-- Key: audience, window_days, metric.
-- Parameters: $as_of, $windows (days, integer[]),
-- $lookback (days), $session_types (event types that are sessions), $min_group (fewest entries on a side
-- for an interval).
-- An entry is a published day on which a customer entered an audience (published.audience_members
-- with as_of = entered_on), within $lookback days before $as_of, whose window (entered_on,
-- entered_on + window_days] has ended by $as_of: only orders and sessions up to $as_of count (sessions
-- from the daily roll-up features.daily_activity, whose activity_date is the session's local date). Its holdout flag is the one of the entry day. A customer id merged since is read under the id it
-- stands for now (core.customer_id_redirects: merges known today, also in a backfill). Each customer
-- counts once per audience and window: their first entry in the lookback.
-- Per entry: converted (1 when a purchase falls in the window, else 0), revenue (net amount of the
-- window's orders in the base currency, refunds netted; 0 without one), retained (1 when a session
-- falls in the window). Per metric: the means of treated and holdout entries, their difference and a
-- 95% interval (normal approximation with unpooled variances: Welch's standard error).
with published_members as (
    select * from published.audience_members
),

redirects as (
    select * from core.customer_id_redirects
),

orders as (
    select * from features.orders
),

activity as (
    select * from features.daily_activity
),

identity as (
    select * from core.identity_map
),

windows as (
    select unnest($windows::integer[]) as window_days
),

all_entries as (
    select
        members.audience,
        coalesce(redirects.current_customer_id, members.customer_id) as customer_id,
        members.customer_id as entered_customer_id,
        members.entered_on,
        members.holdout,
        windows.window_days
    from published_members as members
    cross join windows
    left join redirects using (customer_id)
    where members.as_of = members.entered_on
        and members.entered_on > $as_of::date - $lookback
        and members.entered_on + windows.window_days <= $as_of::date
),

entries as (
    -- one entry per customer, audience and window: the first in the lookback (a customer who came back,
    -- or ids merged since, would count the same purchases twice)
    select
        audience,
        customer_id,
        entered_on,
        holdout,
        window_days
    from all_entries
    qualify row_number() over (
        partition by audience, customer_id, window_days
        order by entered_on, entered_customer_id
    ) = 1
),

sessions as (
    -- only the entries' customers, from the earliest entry on: a day without entries reads no session
    select distinct
        identity.customer_id,
        activity.activity_date as session_date
    from activity
    join identity
        on identity.source = activity.record_source
        and identity.source_id = activity.record_id
    where activity.activity_date <= $as_of::date
        and activity.event_type in (select unnest($session_types::varchar[]))
        and activity.activity_date > (select min(entered_on) from entries)
        and identity.customer_id in (select customer_id from entries)
),

entry_orders as (
    select
        entries.audience,
        entries.customer_id,
        entries.entered_on,
        entries.window_days,
        entries.holdout,
        case when count(orders.customer_id) filter (where orders.purchase) > 0 then 1 else 0 end as converted,
        coalesce(sum(orders.net_amount), 0)::double as revenue
    from entries
    left join orders
        on orders.customer_id = entries.customer_id
        and orders.order_date > entries.entered_on
        and orders.order_date <= entries.entered_on + entries.window_days
    group by all
),

entry_outcomes as (
    select
        entry_orders.*,
        case when count(sessions.customer_id) > 0 then 1 else 0 end as retained
    from entry_orders
    left join sessions
        on sessions.customer_id = entry_orders.customer_id
        and sessions.session_date > entry_orders.entered_on
        and sessions.session_date <= entry_orders.entered_on + entry_orders.window_days
    group by all
),

long as (
    select audience, window_days, entered_on, holdout, 'conversion' as metric, converted::double as value
    from entry_outcomes
    union all
    select audience, window_days, entered_on, holdout, 'revenue_per_member', revenue
    from entry_outcomes
    union all
    select audience, window_days, entered_on, holdout, 'retention', retained::double
    from entry_outcomes
),

groups as (
    select
        audience,
        window_days,
        metric,
        min(entered_on) as entries_from,
        max(entered_on) as entries_to,
        count(*) filter (where not holdout) as treated,
        count(*) filter (where holdout) as holdout,
        avg(value) filter (where not holdout) as treated_value,
        avg(value) filter (where holdout) as holdout_value,
        var_samp(value) filter (where not holdout) as treated_variance,
        var_samp(value) filter (where holdout) as holdout_variance
    from long
    group by all
),

intervals as (
    select
        groups.*,
        treated_value - holdout_value as difference,
        sqrt(treated_variance / treated + holdout_variance / holdout) as standard_error
    from groups
),

final as (
    -- no interval when a side has fewer than $min_group entries: the normal approximation needs more
    select
        audience,
        window_days,
        metric,
        entries_from,
        entries_to,
        treated,
        holdout,
        treated_value,
        holdout_value,
        difference,
        standard_error,
        case when least(treated, holdout) >= $min_group then difference - 1.959963984540054 * standard_error end
            as ci_low,
        case when least(treated, holdout) >= $min_group then difference + 1.959963984540054 * standard_error end
            as ci_high
    from intervals
)

select * from final
order by audience, window_days, metric
