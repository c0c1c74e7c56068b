-- The matcher's stored links (core.match_state_links), read by an incremental run.
-- Grain: one row per linked pair. Key: source_a, id_a, source_b, id_b. Parameters: none.
with state_links as (
    select * from core.match_state_links
),

final as (
    select * from state_links
)

select * from final
