-- The key values two people hold, when only the touched records are linked (tasks/dedupe/touched.py): the
-- changed values as judged now (_two_people), every other value as kept (core.identity_two_people).
-- Grain: one row per (key, value). Key: key, value. Parameters: none.
-- Input: _changed_keys (graph/changed_keys.sql), _two_people, core.identity_two_people.
with changed_keys as (
    select * from _changed_keys
),

judged as (
    select * from _two_people
),

kept as (
    select * from core.identity_two_people
),

final as (
    select
        key,
        value
    from kept
    anti join changed_keys using (key, value)
    union all
    select
        key,
        value
    from judged
)

select * from final
