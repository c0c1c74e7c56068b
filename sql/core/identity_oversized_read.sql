-- The kept oversized clusters (core.identity_oversized) as tasks.dedupe.graph.OVERSIZED_SCHEMA names them.
-- Grain: one row per record. Key: record_source, record_id. Parameters: none.
with oversized as (
    select * from core.identity_oversized
),

final as (
    select
        source as record_source,
        source_id as record_id,
        record_source as anchor_source,
        record_id as anchor_id,
        records,
        description
    from oversized
)

select * from final
