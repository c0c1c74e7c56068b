-- Why each probabilistic link of the last dedupe run scored what it did (a waterfall, as Splink
-- draws it): the prior, then each comparison's level and its match weight in bits. A link's rows sum
-- to its match_weight in core.match_links.
-- Grain: one row per link and step (the prior, then each comparison).
-- Key: source_a, id_a, source_b, id_b, comparison. Parameters: none.
-- Input: temp table _match_evidence(source_a, id_a, source_b, id_b, comparison, level, match_weight)
-- written by tasks/dedupe/explain.py (store_match_evidence), and core.match_parameters.
-- level -1: the value is missing on a side (no evidence, weight 0); -2: a location comparison (postcode,
-- city) that a finer one agreeing stands for (no evidence of its own, weight 0); -3: an initial and a name it
-- begins, J and John (no evidence either way, weight 0). term_frequency_adjusted: an exact level weighed by the
-- frequency of the value, not by the level's u.
with evidence as (
    select * from _match_evidence
),

parameters as (
    select * from core.match_parameters
),

comparisons as (
    select
        comparison,
        any_value(position) as position,
        bool_or(term_frequency) as term_frequency,
        max(level) as top_level
    from parameters
    group by comparison
),

final as (
    select
        evidence.source_a,
        evidence.id_a,
        evidence.source_b,
        evidence.id_b,
        evidence.comparison,
        comparisons.position,
        evidence.level,
        coalesce(
            parameters.label,
            case evidence.level
                when -2 then 'implied by a finer location that agrees'
                when -3 then 'an initial and a name it begins'
                else 'missing on a side'
            end
        ) as label,
        coalesce(comparisons.term_frequency and evidence.level = comparisons.top_level, false)
            as term_frequency_adjusted,
        evidence.match_weight
    from evidence
    join comparisons
        on comparisons.comparison = evidence.comparison
    left join parameters  -- no level -1, -2 or -3 among the parameters
        on parameters.comparison = evidence.comparison
        and parameters.level is not distinct from evidence.level
)

select * from final
order by source_a, id_a, source_b, id_b, position
