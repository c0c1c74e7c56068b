-- The merged groups inserted into core.fact_observations (after core/fact_observations_forget.sql).
-- Grain: one row per (record_source, record_id, email_norm, phone_norm, device_id). Parameters: none.
-- Input: _fact_observations_merged (core/fact_observations_merged.sql).
with merged as (
    select * from _fact_observations_merged
),

final as (
    select * from merged
)

select * from final
