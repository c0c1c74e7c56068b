-- Each customer record's activity per category as of one day, from the daily roll-up features.daily_activity:
-- what features/customer_activity.sql adds up per customer. Kept as features.record_activity from run to run
-- (tasks/features/customer_activity.py): a day recomputes only the records whose rows can differ.
-- Grain: one row per (record_source, record_id, category) with a roll-up row up to $as_of.
-- Key: record_source, record_id, category (category null holds the events without one).
-- Parameters: $as_of (date), $session_types (list of event_type), $epoch (date) and $half_life_days (double):
-- the plays' time decay of act/interaction_summary (tasks/features/customer_activity.py play_epoch).
-- {{records}}: a condition on the roll-up row (`activity`) that keeps the records computed (`true` for
-- every record).
-- Windows: "30d" means local dates in (as_of - 30 days, as_of]; a row counts in a window, a total or a last
-- date by its activity_date alone, so a record's row changes only when its roll-up rows change or one of
-- their days enters or leaves a window (tasks/features/customer_activity.py). Event counts are cast back to
-- bigint (a sum of bigints is a hugeint).
-- session_weight: the sessions weighed by their day, each 2^((day - $epoch) / $half_life_days), added up as
-- decimals (24 places, exact: the same sum whatever order threads add in): act/interaction_summary_kept
-- reads it as a record's plays of a category, the affinity as of a day being the sum times
-- 2^(-(day - $epoch) / $half_life_days). Its weights are fixed while the epoch is, so it changes only when
-- the record's roll-up rows or the days up to as_of do (a new epoch builds the table whole).
with activity as (
    -- each roll-up row counts the events of its record, day, type and category
    select
        *,
        event_type in (select unnest($session_types::varchar[])) as is_session
    from features.daily_activity as activity
    where activity_date <= $as_of
        and {{records}}
),

final as (
    select
        record_source,
        record_id,
        category,
        cast(sum(events) filter (where is_session and activity_date > $as_of - 30) as bigint) as sessions_30d,
        cast(sum(events) filter (where is_session and activity_date > $as_of - 90) as bigint) as sessions_90d,
        cast(sum(events) filter (where is_session and activity_date > $as_of - 180) as bigint) as sessions_180d,
        cast(sum(events) filter (where is_session) as bigint) as sessions_total,
        max(activity_date) filter (where is_session) as last_session_date,
        min(activity_date) filter (where is_session) as first_session_date,
        sum(
            cast(pow(2, (activity_date - $epoch::date) / $half_life_days::double) as decimal(38, 24)) * events
        ) filter (where is_session) as session_weight,
        sum(duration_s) filter (where is_session and activity_date > $as_of - 90) as session_seconds_90d,
        cast(sum(events) filter (where not is_session) as bigint) as engagements_total,
        max(activity_date) as last_event_date
    from activity
    group by record_source, record_id, category
)

select * from final
