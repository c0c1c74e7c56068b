-- The keys of the blocking rules a matcher run chose, as fill_blocking_keys would make them again, kept for the
-- matcher state of a full run (written to Parquet by tasks/dedupe/blocking.py, pairs_sharing, with keys_to;
-- read back as the view _blocking_keys by tasks/dedupe/incremental.py, write_state).
-- Grain: one row per rule, node and key. Key: rule, node, key. Parameters: $rules (list of the chosen rules).
-- Input: temp table _blocking_keys (tasks/dedupe/blocking.py, _fill_keys).
with blocking_keys as (
    select * from _blocking_keys
),

final as (
    select
        rule,
        node,
        key
    from blocking_keys
    where list_contains($rules::varchar[], rule)
)

select * from final
