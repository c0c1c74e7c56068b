-- The records to link, numbered in (record_source, record_id) order: the first nodes of the record graph.
-- Grain: one row per record. Key: node (also record_source, record_id). Parameters: none.
-- {{observations}}: what records were seen with (record_source, record_id, first_seen, the match keys),
-- e.g. the _observations view (graph/observations.sql). A record with an undated observation counts as
-- known since the beginning (first_seen null).
with observations as (
    select * from {{observations}}
),

final as (
    select
        row_number() over (order by record_source, record_id) - 1 as node,
        record_source,
        record_id,
        case when bool_or(first_seen is null) then null else min(first_seen) end as first_seen
    from observations
    group by record_source, record_id
)

select * from final
