-- The records of the kept links in the blocks whose standing changed this run (within max_block_size and
-- of 2 records or more before and not now, or now and not before): only the links of two records sharing
-- such a block may no longer be proposed, every other kept link still shares the block that proposed it
-- (tasks/dedupe/incremental.py).
-- Grain: one row per block of _match_state_blocks(rule, key) and record of _match_state_wanted(record_source,
-- record_id) in it. Key: rule, key, record_source, record_id. Parameters: none.
with state_keys as (
    select * from core.match_state_keys
),

blocks as (
    select * from _match_state_blocks
),

wanted as (
    select * from _match_state_wanted
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
    semi join wanted
        on wanted.record_source = state_keys.record_source
        and wanted.record_id = state_keys.record_id
)

select * from final
