-- Table: core.match_state_links, every pair the last run's matcher scored at or above the threshold
-- (before the one-to-one constraint), with each comparison's level (l_<name>) and weight (w_<name>).
-- Grain: one row per linked pair. Key: source_a, id_a, source_b, id_b (a before b in record order).
-- Parameters: none. Input: temp table _match_state_links written by tasks/dedupe/incremental.py.
with state_links as (
    select * from _match_state_links
),

final as (
    select * from state_links
)

select * from final
