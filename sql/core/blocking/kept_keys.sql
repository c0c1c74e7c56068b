-- The blocking keys a full matcher run kept from its candidate pairs (blocking/chosen_keys.sql), read back as the
-- temp table _blocking_keys of a scratch for the matcher state (tasks/dedupe/incremental.py, write_state):
-- what fill_blocking_keys would make again from the prepared records.
-- Grain: one row per rule, node and key. Key: rule, node, key. Parameters: none.
-- Input: temp view _kept_keys (the Parquet file pairs_sharing wrote with keys_to).
with kept_keys as (
    select * from _kept_keys
),

final as (
    select
        rule,
        node,
        key
    from kept_keys
)

select * from final
