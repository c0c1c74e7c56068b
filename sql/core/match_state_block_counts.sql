-- How many of the stored records in each of some blocks are unchanged (not gone or changed): with the new
-- and changed records' keys, a block's size this run (tasks/dedupe/incremental.py).
-- Grain: one row per block of _match_state_blocks(rule, key) with an unchanged record. Key: rule, key.
-- Parameters: none. Input: _match_state_gone(record_source, record_id), the records gone or changed.
with state_keys as (
    select * from core.match_state_keys
),

blocks as (
    select * from _match_state_blocks
),

gone as (
    select * from _match_state_gone
),

unchanged as (
    select state_keys.*
    from state_keys
    semi join blocks
        on blocks.rule = state_keys.rule
        and blocks.key = state_keys.key
    anti join gone
        on gone.record_source = state_keys.record_source
        and gone.record_id = state_keys.record_id
),

final as (
    select
        rule,
        key,
        count(*) as unchanged
    from unchanged
    group by rule, key
)

select * from final
