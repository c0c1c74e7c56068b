-- Each customer's interest in each item (a game type or product category) as of a day, SAR-style.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $as_of (date: the day weighed as of), $read_to (date: the last day read, as_of or later),
-- $cutoff (the exclusive end of $read_to), $session_types (list of event_type), $half_life_days (double),
-- $purchase_weight (double: what one purchase counts for, a play counting 1), $epoch (date: the day weights
-- are counted from, tasks/features/customer_activity.py play_epoch of $as_of), $fit_day (date or null: a
-- second weighing, as of a time-split evaluation's fit day, in the fit_ columns, against $fit_epoch; null
-- leaves them null).
-- An interaction is a session event with a category (a play), or a paid purchase (positive amount, not
-- failed, pending, refunded or cancelled) with a category. Plays come from the daily roll-up
-- features.daily_activity (a row counts a record's events of one local day, type and category), purchases
-- from core.transactions (their local day).
-- Each interaction weighs 2^(-age / $half_life_days), age being whole local days before as_of (0 on the
-- as_of day); affinity is their sum. Computed as 2^(-($as_of - $epoch) / $half_life_days) times the sum of
-- 2^((day - $epoch) / $half_life_days) added up as decimals (24 places): exact, so it does not depend on
-- the order parallel threads add them in (a day's interactions count its weight that many times, exactly),
-- and a record's plays weighed so do not change from day to day while the epoch holds:
-- features.record_activity keeps them (session_weight), and act/interaction_summary_kept, which reads them
-- there on a served day, gives the same rows as this model.
-- Days after as_of, up to $read_to (a time-split evaluation takes its fit and its truth from the same
-- days), count only for first_date: an item first had after as_of has affinity 0, no plays or purchases and
-- no last_date.
-- fit_affinity, fit_plays, fit_purchases and fit_last_date are the same weighed as of $fit_day (before
-- $as_of) from the same days read: a full refresh's day and its evaluation read the roll-up once
-- (act/recommend_fit_interactions reads them). The sums are the same expressions, so the same values.
-- How, for a million customers: the roll-up is summed per record and item first, then the identity map
-- joins one row per record and item (not one per roll-up row, ~9M at 1M) and the records' sums are added up
-- per customer. The decimal sums are exact, so summing per record first gives the same affinity.
with activity as (
    select * from features.daily_activity
),

transactions as (
    select * from core.transactions
),

identity as (
    select * from core.identity_map
),

play_days as (
    select
        record_source,
        record_id,
        category as item,
        activity_date as interaction_date,
        false as purchase,
        events as interactions
    from activity
    where activity_date <= $read_to::date
        and category is not null
        and event_type in (select unnest($session_types::varchar[]))
),

purchase_days as (
    select
        record_source,
        record_id,
        category as item,
        cast(ts as date) as interaction_date,
        true as purchase,
        1 as interactions
    from transactions
    where ts < $cutoff
        and category is not null
        and amount > 0
        and coalesce(status, 'paid') not in ('failed', 'pending', 'refunded', 'cancelled')
),

days as (
    select * from play_days
    union all
    select * from purchase_days
),

weighed as (
    select
        *,
        case when purchase then $purchase_weight::double else 1.0 end as weight
    from days
),

records as (
    select
        record_source,
        record_id,
        item,
        -- the day tested in a case, not a filter: an aggregate's input is computed for every row, also those
        -- its filter drops, and a day after the weighing's epoch span could overflow the decimal
        sum(
            case when interaction_date <= $as_of::date then
                cast(
                    weight * pow(2, (interaction_date - $epoch::date) / $half_life_days::double)
                        as decimal(38, 24)
                ) * interactions
            end
        ) as affinity,
        sum(interactions) filter (where not purchase and interaction_date <= $as_of::date) as plays,
        sum(interactions) filter (where purchase and interaction_date <= $as_of::date) as purchases,
        min(interaction_date) as first_date,
        max(interaction_date) filter (where interaction_date <= $as_of::date) as last_date,
        -- the same case: without a $fit_day (a served day) no row computes the weight
        sum(
            case when interaction_date <= $fit_day::date then
                cast(
                    weight * pow(2, (interaction_date - $fit_epoch::date) / $half_life_days::double)
                        as decimal(38, 24)
                ) * interactions
            end
        ) as fit_affinity,
        sum(interactions) filter (where not purchase and interaction_date <= $fit_day::date) as fit_plays,
        sum(interactions) filter (where purchase and interaction_date <= $fit_day::date) as fit_purchases,
        max(interaction_date) filter (where interaction_date <= $fit_day::date) as fit_last_date
    from weighed
    group by record_source, record_id, item
),

final as (
    select
        identity.customer_id,
        records.item,
        coalesce(sum(records.affinity), 0)::double
            * pow(2, -($as_of::date - $epoch::date) / $half_life_days::double) as affinity,
        coalesce(sum(records.plays), 0)::bigint as plays,
        coalesce(sum(records.purchases), 0)::bigint as purchases,
        min(records.first_date) as first_date,
        max(records.last_date) as last_date,
        case when $fit_day::date is not null then
            coalesce(sum(records.fit_affinity), 0)::double
                * pow(2, -($fit_day::date - $fit_epoch::date) / $half_life_days::double)
        end as fit_affinity,
        case when $fit_day::date is not null then coalesce(sum(records.fit_plays), 0)::bigint end as fit_plays,
        case when $fit_day::date is not null then coalesce(sum(records.fit_purchases), 0)::bigint end as fit_purchases,
        max(records.fit_last_date) as fit_last_date
    from records
    join identity
        on identity.source = records.record_source
        and identity.source_id = records.record_id
    group by identity.customer_id, records.item
)

select * from final
