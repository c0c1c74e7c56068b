-- The blocking keys of a full matcher run's records, named by their records, as core/match_state_keys reads them
-- (written to Parquet outside the stage's transaction, read as the temp view _match_state_keys): the keys stay
-- in DuckDB, under its memory limit.
-- Grain: one row per rule, key and record. Key: rule, key, record_source, record_id. Parameters: none.
-- Input: temp table _blocking_keys (rule, node, key, ...: tasks/dedupe/blocking.py, fill_blocking_keys) and
-- _match_state_ids (node, record_source, record_id: each node's record, tasks/dedupe/incremental.py).
with blocking_keys as (
    select * from _blocking_keys
),

ids as (
    select * from _match_state_ids
),

final as (
    select
        blocking_keys.rule,
        blocking_keys.key,
        ids.record_source,
        ids.record_id
    from blocking_keys
    inner join ids on blocking_keys.node = ids.node
)

select * from final
