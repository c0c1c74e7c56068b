-- The unchanged stored records (not gone or changed) of some blocks: the members an incremental run pairs
-- with the new and changed records (tasks/dedupe/incremental.py).
-- Grain: one row per block of _match_state_blocks(rule, key) and unchanged record in it.
-- Key: rule, key, record_source, record_id. Parameters: none.
-- Input: _match_state_gone(record_source, record_id), the records gone or changed.
with state_keys as (
    select * from core.match_state_keys
),

blocks as (
    select * from _match_state_blocks
),

gone as (
    select * from _match_state_gone
),

final as (
    select
        state_keys.rule,
        state_keys.key,
        state_keys.record_source,
        state_keys.record_id
    from state_keys
    semi join blocks
        on blocks.rule = state_keys.rule
        and blocks.key = state_keys.key
    anti join gone
        on gone.record_source = state_keys.record_source
        and gone.record_id = state_keys.record_id
)

select * from final
