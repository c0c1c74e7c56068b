-- The Fellegi-Sunter parameters the last dedupe run scored its pairs with: for each comparison and
-- level, m (how often true matches reach it), u (how often random pairs do) and the match weight
-- log2(m / u) in bits; and the prior as the row comparison = 'prior' (m: the match probability of two
-- records taken at random, u: 1 - m, so its match_weight is the log2 odds every score starts from).
-- An exact level of a comparison with term_frequency is weighed by its value's own frequency
-- instead (core.match_evidence holds the weight each link got).
-- Grain: one row per comparison and level, plus the prior. Key: comparison, level (null for the prior).
-- Parameters: none.
-- Input: temp table _match_parameters(comparison, position, kind, attribute, term_frequency, level,
-- label, m, u) written by tasks/dedupe/explain.py (store_match_evidence); empty when the run trained
-- no matcher (dedupe.probabilistic off, too few records, no candidate pairs).
with parameters as (
    select * from _match_parameters
),

final as (
    select
        comparison,
        position,  -- 0 for the prior, then the comparisons in the order of the config
        kind,
        attribute,
        term_frequency,
        level,
        label,
        m,
        u,
        log2(m / u) as match_weight
    from parameters
)

select * from final
order by position, level
