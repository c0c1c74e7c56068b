-- Every match key value held by more than $max_key_records records: too common to link on (kept from run to
-- run: the next run recounts only the values of the records that changed, tasks/dedupe/touched.py).
-- Grain: one row per (key, value). Key: key, value. Parameters: $max_key_records.
-- {{keys}}: key, value, records of a run that linked every record: _link_keys (graph/keys.sql), or those
-- above the limit read from it (tasks.dedupe.graph.RecordClusters.overshared_counts).
with shared_keys as (
    select * from {{keys}}
),

final as (
    select
        key,
        value,
        records
    from shared_keys
    where records > $max_key_records
)

select * from final
