-- The stored size of some blocks (core.match_state_blocks): how many records of the matcher's state each
-- holds, before this run's changes (tasks/dedupe/incremental.py adds the new and changed records' keys and
-- takes the gone ones' out).
-- Grain: one row per block of _match_state_wanted_blocks(rule, kh1, kh2) with a stored record.
-- Key: rule, kh1, kh2. Parameters: none.
with stored as (
    select * from core.match_state_blocks
),

wanted as (
    select * from _match_state_wanted_blocks
),

final as (
    select
        stored.rule,
        stored.kh1,
        stored.kh2,
        stored.size
    from stored
    semi join wanted
        on wanted.rule = stored.rule
        and wanted.kh1 = stored.kh1
        and wanted.kh2 = stored.kh2
)

select * from final
