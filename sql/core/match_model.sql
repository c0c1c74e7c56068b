-- Table: core.match_model, the fitted probabilistic matcher later runs score with until a refit is due
-- (tasks/dedupe/model.py: refit_reason).
-- Grain: one row, the stored fit. Key: model_id. Parameters: none.
-- Input: temp table _match_model written by tasks/dedupe/model.py (store_model): the settings hash the fit
-- depends on, the day it was fitted as of and its records, the prior of two random records (prior) and
-- EM's match share (em_prior), the blocking rules chosen, and as JSON the m/u of every comparison level,
-- the rules the data offered and the decimal separators of text amounts.
with model as (
    select * from _match_model
),

final as (
    select
        model_id,
        version,
        settings_hash,
        fitted_as_of,
        records,
        prior,
        em_prior,
        iterations,
        rules,
        blocking,
        parameters,
        decimals,
        current_timestamp as fitted_at
    from model
)

select * from final
