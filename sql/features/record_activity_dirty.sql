-- The customer records whose features.record_activity rows can differ between the day it holds ($previous)
-- and the day asked for ($as_of): those with a roll-up row on a day the roll-up recomputed since
-- (_activity_touched), before (_activity_forgotten) or after, or on a day that enters or leaves a window or
-- the days up to as_of between the two.
-- Grain: one row per (record_source, record_id). Key: both. Parameters: $as_of, $previous (dates, either
-- order: a backfill goes back).
-- Why that is enough: a record_activity row is a sum or a max of its roll-up rows, each counted in a window
-- by its activity_date alone; the windows are (day - 30, day], (day - 90, day], (day - 180, day] and the
-- days up to day. A row whose day lies in none of the spans below is in the same windows on both days, so
-- a record none of whose rows changed or moved has the same record_activity rows.
with activity as (
    select * from features.daily_activity
),

touched as (
    select * from _activity_touched
),

bounds as (
    select
        least($as_of::date, $previous::date) as low,
        greatest($as_of::date, $previous::date) as high
),

moved as (
    select distinct
        activity.record_source,
        activity.record_id
    from activity, bounds
    where (activity.activity_date > bounds.low and activity.activity_date <= bounds.high)
        or (activity.activity_date > bounds.low - 30 and activity.activity_date <= bounds.high - 30)
        or (activity.activity_date > bounds.low - 90 and activity.activity_date <= bounds.high - 90)
        or (activity.activity_date > bounds.low - 180 and activity.activity_date <= bounds.high - 180)
),

recomputed as (
    select distinct
        activity.record_source,
        activity.record_id
    from activity
    semi join touched on touched.activity_date = activity.activity_date
),

forgotten as (
    select record_source, record_id from _activity_forgotten
),

final as (
    select * from moved
    union
    select * from recomputed
    union
    select * from forgotten
)

select * from final
