-- Every customer record known as of the cutoff, mapped to its customer.
-- Grain: one row per (source, source_id). Key: source, source_id.
-- Input: temp table record_components(record_source, record_id, component, first_seen, match_rule)
-- built by the dedupe task. The customer_id is derived from the cluster's earliest record
-- (first seen, then source, then id), so it survives later runs: new records join it, and
-- when two clusters merge the older anchor wins.
with components as (
    select * from record_components
),

anchors as (
    select
        component,
        first(
            record_source || ':' || record_id
            order by first_seen asc nulls first, record_source, record_id
        ) as anchor,
        count(*) as cluster_size
    from components
    group by component
),

final as (
    select
        components.record_source as source,
        components.record_id as source_id,
        'C' || left(md5(anchors.anchor), 16) as customer_id,
        components.match_rule,
        case when components.match_rule = 'singleton' then null else 1.0 end as match_score,
        anchors.cluster_size,
        components.first_seen
    from components
    join anchors using (component)
)

select * from final
