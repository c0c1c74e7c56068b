-- Table: core.match_state_keys, the blocking keys of the matcher's records under the fitted model's rules.
-- Grain: one row per rule, key and record. Key: rule, key, record_source, record_id. Parameters: none.
-- Input: _match_state_keys (rule, key, record_source, record_id) written by tasks/dedupe/incremental.py: a
-- temp table of an incremental run's new keys (tasks/dedupe/blocking.py: blocking_keys), or after a full run
-- a view of every key (core/blocking/named_keys, through Parquet).
with state_keys as (
    select * from _match_state_keys
),

final as (
    select
        rule,
        key,
        record_source,
        record_id
    from state_keys
)

select * from final
