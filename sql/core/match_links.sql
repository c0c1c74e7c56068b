-- The probabilistic links of the last dedupe run: pairs of customer records scored at or above
-- dedupe.match_threshold.
-- Grain: one row per linked pair of records. Key: source_a, id_a, source_b, id_b. Parameters: none.
-- Input: temp table _match_links written by tasks/dedupe/explain.py (store_match_evidence).
-- used is false for a link the one-to-one constraint (dedupe.one_to_one) left out; the clustering
-- was given the others (a cluster above max_cluster_size is re-split without them).
with links as (
    select * from _match_links
),

final as (
    select
        source_a,
        id_a,
        source_b,
        id_b,
        match_probability,
        match_weight,
        rule,
        used
    from links
)

select * from final
order by source_a, id_a, source_b, id_b
