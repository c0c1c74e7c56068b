-- Statement: delete the features.activity_identity rows of the records whose customer changed, appeared or
-- went (_activity_identity_moved), before their rows of today's identity map are inserted.
-- Grain: deletes one row per such record held. Parameters: none.
delete from features.activity_identity as held
using _activity_identity_moved as moved
where moved.source = held.source
    and moved.source_id = held.source_id
