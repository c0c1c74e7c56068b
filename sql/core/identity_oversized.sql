-- The records of every cluster found above max_cluster_size (re-split by tasks/dedupe/graph.py), with the
-- cluster's first record (its anchor: the lowest source, source_id), size and description: a run that keeps
-- the cluster's components from the last run (tasks/dedupe/touched.py) still reports it, and re-resolves
-- all of it when any of its records is touched.
-- Grain: one row per record. Key: source, source_id. Parameters: none. The anchor is named as a record
-- (record_source, record_id) so that an erasure of it removes its cluster's rows (tasks/shared/lineage.py).
-- Input: temp table _oversized(record_source, record_id, anchor_source, anchor_id, records, description).
with oversized as (
    select * from _oversized
),

final as (
    select
        record_source as source,
        record_id as source_id,
        anchor_source as record_source,
        anchor_id as record_id,
        records,
        description
    from oversized
)

select * from final
