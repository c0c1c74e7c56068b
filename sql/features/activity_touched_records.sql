-- The customer records with a roll-up row on a day the refresh recomputes (_activity_touched), taken before
-- those days' rows are deleted: a record whose rows of such a day all go (its events now map to another
-- record) has none there afterwards, and its features.record_activity rows must be recomputed all the same
-- (features/record_activity_dirty.sql reads them as _activity_forgotten).
-- Grain: one row per (record_source, record_id). Key: both. Parameters: none.
with activity as (
    select * from features.daily_activity
),

touched as (
    select * from _activity_touched
),

final as (
    select distinct
        activity.record_source,
        activity.record_id
    from activity
    semi join touched on touched.activity_date = activity.activity_date
)

select * from final
