-- Forget the kept judgement of the key values the changed records hold (graph/changed_keys.sql), before the
-- values judged again this run (_two_people) are inserted.
-- Grain: deletes one row of core.identity_two_people per changed value. Parameters: none.
delete from core.identity_two_people as apart
using _changed_keys as changed
where apart.key = changed.key
    and apart.value = changed.value
