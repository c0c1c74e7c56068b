-- No day recomputed: _activity_touched (features/activity_touched.sql) of a refresh that rebuilt the roll-up
-- or found no new file, which tasks/features/customer_activity.py reads all the same.
-- Grain: one row per activity_date (none). Key: activity_date. Parameters: none.
with final as (
    select cast(null as date) as activity_date
    where false
)

select * from final
