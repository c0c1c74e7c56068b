-- The probabilistic links the last run clustered with (core.match_links that were used), read before this
-- run replaces them: the links that changed since touch their records' components (graph/touched_seed.sql).
-- Grain: one row per linked pair. Key: source_a, id_a, source_b, id_b. Parameters: none.
with links as (
    select * from core.match_links
),

final as (
    select
        source_a,
        id_a,
        source_b,
        id_b,
        match_probability,
        rule
    from links
    where used
)

select * from final
