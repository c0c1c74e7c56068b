-- Statement: delete the features.record_activity rows of the records a run recomputes (_record_activity_dirty,
-- features/record_activity_dirty.sql), before their rows as of the new day are inserted.
-- Grain: deletes every row of those records. Parameters: none.
delete from features.record_activity as held
using _record_activity_dirty as dirty
where dirty.record_source = held.record_source
    and dirty.record_id is not distinct from held.record_id
