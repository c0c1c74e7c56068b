-- Every customer record known as of the cutoff, mapped to its customer.
-- Grain: one row per (source, source_id). Key: source, source_id. Parameters: none.
-- Input: temp table record_components(record_source, record_id, component, first_seen, match_rule,
-- match_score, customer_id) built by the dedupe task; the customer_id is the cluster's stable id from
-- tasks/dedupe/ids.py (kept across runs; merges and splits recorded in core.merge_history/split_history).
with components as (
    select * from record_components
),

anchors as (
    select
        component,
        count(*) as cluster_size
    from components
    group by component
),

final as (
    select
        components.record_source as source,
        components.record_id as source_id,
        components.customer_id,
        components.match_rule,
        components.match_score,  -- 1.0 for an exact key, the match probability for a probabilistic link
        anchors.cluster_size,
        components.first_seen
    from components
    join anchors using (component)
)

select * from final
