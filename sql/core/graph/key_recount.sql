-- How many records hold each changed key value now (graph/changed_keys.sql), counted over every record;
-- a value nobody holds any more counts 0. Every other value's count is that of the last run.
-- Grain: one row per (key, value). Key: key, value. Parameters: none.
-- Input: _changed_keys, _key_holders (graph/key_holders.sql).
with changed_keys as (
    select * from _changed_keys
),

holders as (
    select * from _key_holders
),

counts as (
    select
        key,
        value,
        count(*) as records
    from holders
    group by key, value
),

final as (
    select
        changed_keys.key,
        changed_keys.value,
        coalesce(counts.records, 0) as records
    from changed_keys
    left join counts using (key, value)
)

select * from final
