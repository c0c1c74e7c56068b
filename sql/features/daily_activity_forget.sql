-- Statement: delete the roll-up rows of the days new files touch, before they are recomputed.
-- Grain: deletes every features.daily_activity row of a day in _activity_touched. Parameters: none.
delete from features.daily_activity
where activity_date in (select activity_date from _activity_touched)
