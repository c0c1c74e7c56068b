-- What decides whether the stored matcher is refitted (tasks/dedupe/model.py: refit_reason).
-- Grain: one row (none when no model is stored). Key: none. Parameters: none.
with model as (
    select * from core.match_model
),

final as (
    select
        settings_hash,
        fitted_as_of,
        records,
        version
    from model
)

select * from final
