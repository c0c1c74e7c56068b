-- Each record's match key values: the edges of the record graph.
-- Grain: one row per (node, key, value). Key: node, key, value. Parameters: none.
-- {{holders}}: key, value, record_source, record_id of the records to link (graph/holders.sql).
-- Input: _link_records (graph/records.sql).
with holders as (
    select * from {{holders}}
),

records as (
    select * from _link_records
),

final as (
    select
        records.node,
        holders.key,
        holders.value
    from holders
    join records using (record_source, record_id)
)

select * from final
